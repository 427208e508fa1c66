/**
 * The consumer-group adapters against a recording fake coordinator: what each Kafka version turns into
 * (JoinGroup v0's missing rebalance timeout, v4+'s MEMBER_ID_REQUIRED flow, v0–3 simple commits,
 * LeaveGroup v0–2 vs v3+, OffsetFetch's three layouts), that every answer encodes at every advertised
 * version, and that a parked JoinGroup or SyncGroup answers NOT_COORDINATOR when the broker drains.
 */
import { describe, expect, it } from 'vitest';
import type { GroupCoordinator } from '../../../../src/coordinator/group-coordinator.ts';
import type {
  JoinGroupRequest,
  JoinGroupResult,
  LeaveGroupRequest,
  OffsetCommitRequest,
  OffsetFetchRequest,
  OffsetFetchResult,
  SyncGroupResult,
} from '../../../../src/coordinator/types.ts';
import { API_KEYS, type ApiKey, type RequestBodies } from '../../../../src/protocol/kafka/api-keys.ts';
import {
  type DecodedRequest,
  decodeRequest,
  encodeRequest,
  encodeResponse,
} from '../../../../src/protocol/kafka/request-codec.ts';
import type { BrokerContext } from '../../../../src/router/broker-context.ts';
import { FetchReadAhead } from '../../../../src/router/handlers/fetch.ts';
import { kafkaApi } from '../../../../src/router/kafka/api-table.ts';
import type { KafkaEnv } from '../../../../src/router/kafka/kafka-api.ts';

/** Records the coordinator calls; answers what the test sets. */
class FakeCoordinator {
  readonly calls: { method: string; request: unknown }[] = [];
  join: () => Promise<JoinGroupResult> = () =>
    Promise.resolve({
      generationId: 3,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: 'm-1',
      memberId: 'm-1',
      members: [{ memberId: 'm-1', groupInstanceId: null, metadata: new Uint8Array([1]) }],
    });
  sync: () => Promise<SyncGroupResult> = () =>
    Promise.resolve({ protocolType: 'consumer', protocolName: 'range', assignment: new Uint8Array([9]) });
  leaveErrors: LeaveGroupResultMembers = [];
  fetchResult: OffsetFetchResult = { topics: [] };

  joinGroup(request: JoinGroupRequest) {
    this.calls.push({ method: 'joinGroup', request });
    return this.join();
  }
  syncGroup(request: unknown) {
    this.calls.push({ method: 'syncGroup', request });
    return this.sync();
  }
  heartbeat(request: unknown) {
    this.calls.push({ method: 'heartbeat', request });
    return {};
  }
  leaveGroup(request: LeaveGroupRequest) {
    this.calls.push({ method: 'leaveGroup', request });
    return {
      members: request.members.map((m, i) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        ...(this.leaveErrors[i] && { error: this.leaveErrors[i] }),
      })),
    };
  }
  offsetCommit(request: OffsetCommitRequest) {
    this.calls.push({ method: 'offsetCommit', request });
    return Promise.resolve({
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partition })),
      })),
    });
  }
  offsetFetch(request: OffsetFetchRequest) {
    this.calls.push({ method: 'offsetFetch', request });
    return this.fetchResult;
  }
  describeGroups(groupIds: string[]) {
    return groupIds.map((groupId) => ({
      groupId,
      state: 'Stable',
      protocolType: 'consumer',
      protocolName: 'range',
      generationId: 1,
      leader: 'm-1',
      members: [
        {
          memberId: 'm-1',
          groupInstanceId: 'i-1',
          clientId: 'c',
          clientHost: 'h',
          metadata: new Uint8Array([1]),
          assignment: new Uint8Array([2]),
        },
      ],
    }));
  }
  listGroups(states?: string[]) {
    this.calls.push({ method: 'listGroups', request: states });
    return [{ groupId: 'g', protocolType: 'consumer', state: 'Stable' }];
  }
  deleteGroups(groupIds: string[]) {
    return Promise.resolve(groupIds.map((groupId) => ({ groupId })));
  }
}
type LeaveGroupResultMembers = ('UNKNOWN_MEMBER_ID' | 'FENCED_INSTANCE_ID' | undefined)[];

function envWith(coordinator: FakeCoordinator, signal = new AbortController().signal): KafkaEnv {
  return {
    ctx: { coordinator: coordinator as unknown as GroupCoordinator } as BrokerContext,
    signal,
    clientHost: '10.1.2.3',
    readAhead: new FetchReadAhead(),
  };
}

/** A request as the connection hands it over: encoded by the client, decoded by the broker. */
function request<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K]): DecodedRequest {
  return decodeRequest(
    Buffer.concat(encodeRequest(apiKey, version, { correlationId: 7, clientId: 'cid' }, body)),
  );
}

/** Run the adapter and encode its answer at the request's version (as the connection does). */
async function serve(coordinator: FakeCoordinator, req: DecodedRequest, signal?: AbortSignal) {
  const api = kafkaApi(req.apiKey)!;
  const reply = await api.handle(req as never, envWith(coordinator, signal));
  expect(() => encodeResponse(req.apiKey, req.apiVersion, 7, reply as never)).not.toThrow();
  return reply as Record<string, unknown>;
}

const joinBody = (memberId = '') => ({
  groupId: 'g',
  sessionTimeoutMs: 6000,
  rebalanceTimeoutMs: 20_000,
  memberId,
  groupInstanceId: null,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: new Uint8Array([0, 1]) }],
});

describe('JoinGroup', () => {
  it('v0 has no rebalance timeout: the session timeout is used; v1+ pass theirs', async () => {
    for (let v = 0; v <= 9; v++) {
      const fake = new FakeCoordinator();
      await serve(fake, request(API_KEYS.JoinGroup, v, joinBody()));
      const call = fake.calls[0]!.request as JoinGroupRequest;
      expect(call.rebalanceTimeoutMs, `v${v}`).toBe(v === 0 ? 6000 : 20_000);
      expect(call.sessionTimeoutMs).toBe(6000);
      expect(call.clientId).toBe('cid');
      expect(call.clientHost).toBe('10.1.2.3');
    }
  });

  it('asks for the MEMBER_ID_REQUIRED flow from v4 on', async () => {
    for (let v = 0; v <= 9; v++) {
      const fake = new FakeCoordinator();
      await serve(fake, request(API_KEYS.JoinGroup, v, joinBody()));
      expect((fake.calls[0]!.request as JoinGroupRequest).requireKnownMemberId, `v${v}`).toBe(v >= 4);
    }
  });

  it('passes group_instance_id (v5+) and reason (v8+)', async () => {
    const fake = new FakeCoordinator();
    await serve(
      fake,
      request(API_KEYS.JoinGroup, 8, { ...joinBody(), groupInstanceId: 'i-1', reason: 'why' }),
    );
    expect(fake.calls[0]!.request).toMatchObject({ groupInstanceId: 'i-1', reason: 'why' });
  });

  it('answers a failed join with protocol name "" before v7 and null from v7, protocol type from v7', async () => {
    for (let v = 0; v <= 9; v++) {
      const fake = new FakeCoordinator();
      fake.join = () =>
        Promise.resolve({
          error: 'MEMBER_ID_REQUIRED',
          generationId: -1,
          protocolType: null,
          protocolName: null,
          leader: '',
          memberId: 'cid-1234',
          members: [],
        });
      const r = await serve(fake, request(API_KEYS.JoinGroup, v, joinBody()));
      expect(r).toMatchObject({ errorCode: 79, memberId: 'cid-1234', generationId: -1 });
      expect(r.protocolName, `v${v}`).toBe(v >= 7 ? null : '');
    }
  });

  it('answers a successful join with the leader’s member list and skip_assignment false', async () => {
    const r = await serve(new FakeCoordinator(), request(API_KEYS.JoinGroup, 9, joinBody('m-1')));
    expect(r).toMatchObject({
      errorCode: 0,
      generationId: 3,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: 'm-1',
      skipAssignment: false,
      memberId: 'm-1',
      members: [{ memberId: 'm-1', groupInstanceId: null, metadata: new Uint8Array([1]) }],
    });
  });

  it('a parked join answers NOT_COORDINATOR at once when the broker drains', async () => {
    const fake = new FakeCoordinator();
    fake.join = () => new Promise(() => {}); // the rebalance never completes
    const aborts = new AbortController();
    const answer = serve(fake, request(API_KEYS.JoinGroup, 5, joinBody('m-1')), aborts.signal);
    aborts.abort();
    expect(await answer).toMatchObject({ errorCode: 16, memberId: 'm-1', generationId: -1 });
  });
});

describe('SyncGroup', () => {
  it('passes protocol type and name from v5 only, and answers them', async () => {
    for (let v = 0; v <= 5; v++) {
      const fake = new FakeCoordinator();
      const r = await serve(
        fake,
        request(API_KEYS.SyncGroup, v, {
          groupId: 'g',
          generationId: 1,
          memberId: 'm-1',
          ...(v >= 5 && { protocolType: 'consumer', protocolName: 'range' }),
          assignments: [{ memberId: 'm-1', assignment: new Uint8Array([5]) }],
        }),
      );
      expect(fake.calls[0]!.request).toMatchObject({
        protocolType: v >= 5 ? 'consumer' : null,
        protocolName: v >= 5 ? 'range' : null,
        assignments: [{ memberId: 'm-1', assignment: new Uint8Array([5]) }],
      });
      expect(r).toMatchObject({ errorCode: 0, assignment: new Uint8Array([9]) });
    }
  });

  it('a parked follower answers NOT_COORDINATOR at once when the broker drains', async () => {
    const fake = new FakeCoordinator();
    fake.sync = () => new Promise(() => {});
    const aborts = new AbortController();
    const answer = serve(
      fake,
      request(API_KEYS.SyncGroup, 3, { groupId: 'g', generationId: 1, memberId: 'm-2', assignments: [] }),
      aborts.signal,
    );
    aborts.abort();
    expect(await answer).toMatchObject({ errorCode: 16, assignment: new Uint8Array(0) });
  });
});

describe('LeaveGroup', () => {
  it('v0–2 name one member and answer its error at the top level', async () => {
    for (let v = 0; v <= 2; v++) {
      const fake = new FakeCoordinator();
      fake.leaveErrors = ['UNKNOWN_MEMBER_ID'];
      const r = await serve(fake, request(API_KEYS.LeaveGroup, v, { groupId: 'g', memberId: 'm-9' }));
      expect(fake.calls[0]!.request).toEqual({
        groupId: 'g',
        members: [{ memberId: 'm-9', groupInstanceId: null }],
      });
      expect(r.errorCode).toBe(25);
    }
  });

  it('v3+ name several members and answer per member', async () => {
    for (let v = 3; v <= 5; v++) {
      const fake = new FakeCoordinator();
      fake.leaveErrors = [undefined, 'FENCED_INSTANCE_ID'];
      const r = await serve(
        fake,
        request(API_KEYS.LeaveGroup, v, {
          groupId: 'g',
          members: [
            { memberId: 'm-1', groupInstanceId: null },
            { memberId: 'm-2', groupInstanceId: 'i-2', reason: 'bye' },
          ],
        }),
      );
      expect(r).toMatchObject({
        errorCode: 0,
        members: [
          { memberId: 'm-1', groupInstanceId: null, errorCode: 0 },
          { memberId: 'm-2', groupInstanceId: 'i-2', errorCode: 82 },
        ],
      });
      expect((fake.calls[0]!.request as LeaveGroupRequest).members[1]!.reason).toBe(v >= 5 ? 'bye' : null);
    }
  });
});

describe('OffsetCommit', () => {
  it('v0 (no generation, no member) is a simple commit; v1+ pass generation and member', async () => {
    const partitions = [{ partitionIndex: 2, committedOffset: 42, committedMetadata: null }];
    for (let v = 0; v <= 8; v++) {
      const fake = new FakeCoordinator();
      const r = await serve(
        fake,
        request(API_KEYS.OffsetCommit, v, {
          groupId: 'g',
          ...(v >= 1 && { generationIdOrMemberEpoch: 4, memberId: 'm-1' }),
          topics: [{ name: 't', partitions }],
        }),
      );
      expect(fake.calls[0]!.request, `v${v}`).toEqual({
        groupId: 'g',
        generationId: v >= 1 ? 4 : -1,
        memberId: v >= 1 ? 'm-1' : '',
        groupInstanceId: null,
        topics: [{ name: 't', partitions: [{ partition: 2, offset: 42, leaderEpoch: -1, metadata: null }] }],
      });
      expect(r.topics).toEqual([{ name: 't', partitions: [{ partitionIndex: 2, errorCode: 0 }] }]);
    }
  });

  it('accepts v1’s commit timestamp and v2–4’s retention time', async () => {
    const fake = new FakeCoordinator();
    await serve(
      fake,
      request(API_KEYS.OffsetCommit, 1, {
        groupId: 'g',
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 0, committedOffset: 1, commitTimestamp: 5, committedMetadata: 'x' },
            ],
          },
        ],
      }),
    );
    await serve(
      fake,
      request(API_KEYS.OffsetCommit, 3, { groupId: 'g', retentionTimeMs: 60_000, topics: [] }),
    );
    expect(fake.calls).toHaveLength(2);
  });
});

describe('OffsetFetch', () => {
  const committed: OffsetFetchResult = {
    topics: [{ name: 't', partitions: [{ partition: 0, offset: 7, leaderEpoch: 0, metadata: 'md' }] }],
  };

  it('v0–1 report a group-level error on every requested partition', async () => {
    for (let v = 0; v <= 1; v++) {
      const fake = new FakeCoordinator();
      fake.fetchResult = { error: 'INVALID_GROUP_ID', topics: [] };
      const r = await serve(
        fake,
        request(API_KEYS.OffsetFetch, v, { groupId: '', topics: [{ name: 't', partitionIndexes: [0, 1] }] }),
      );
      expect(r.topics).toEqual([
        {
          name: 't',
          partitions: [0, 1].map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1,
            metadata: '',
            errorCode: 24,
          })),
        },
      ]);
    }
  });

  it('v2–7 put a group-level error at the top level; null topics ask for everything', async () => {
    for (let v = 2; v <= 7; v++) {
      const fake = new FakeCoordinator();
      fake.fetchResult = committed;
      const ok = await serve(fake, request(API_KEYS.OffsetFetch, v, { groupId: 'g', topics: null }));
      expect((fake.calls[0]!.request as OffsetFetchRequest).topics).toBeNull();
      expect(ok).toMatchObject({
        errorCode: 0,
        topics: [{ name: 't', partitions: [{ committedOffset: 7 }] }],
      });
      fake.fetchResult = { error: 'INVALID_GROUP_ID', topics: [] };
      const failed = await serve(fake, request(API_KEYS.OffsetFetch, v, { groupId: '', topics: null }));
      expect(failed).toMatchObject({ errorCode: 24, topics: [] });
    }
  });

  it('v8 answers per group', async () => {
    const fake = new FakeCoordinator();
    fake.fetchResult = committed;
    const r = await serve(
      fake,
      request(API_KEYS.OffsetFetch, 8, {
        groups: [
          { groupId: 'a', topics: null },
          { groupId: 'b', topics: [{ name: 't', partitionIndexes: [0] }] },
        ],
      }),
    );
    expect(fake.calls.map((c) => c.request)).toEqual([
      { groupId: 'a', topics: null },
      { groupId: 'b', topics: [{ name: 't', partitions: [0] }] },
    ]);
    expect(
      (r.groups as { groupId: string; errorCode: number }[]).map((g) => [g.groupId, g.errorCode]),
    ).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
  });
});

describe('DescribeGroups, ListGroups, DeleteGroups, Heartbeat', () => {
  it('encode at every advertised version', async () => {
    for (const [apiKey, body] of [
      [API_KEYS.DescribeGroups, { groups: ['g'] }],
      [API_KEYS.ListGroups, {}],
      [API_KEYS.DeleteGroups, { groupsNames: ['g'] }],
      [API_KEYS.Heartbeat, { groupId: 'g', generationId: 1, memberId: 'm-1' }],
    ] as const) {
      const [min, max] = kafkaApi(apiKey)!.versions;
      for (let v = min; v <= max; v++) await serve(new FakeCoordinator(), request(apiKey, v, body as never));
    }
  });

  it('DescribeGroups reports every group operation as allowed when asked (v3+)', async () => {
    const asked = await serve(
      new FakeCoordinator(),
      request(API_KEYS.DescribeGroups, 3, { groups: ['g'], includeAuthorizedOperations: true }),
    );
    expect((asked.groups as { authorizedOperations: number }[])[0]!.authorizedOperations).toBe(
      (1 << 3) | (1 << 6) | (1 << 8),
    );
    const notAsked = await serve(
      new FakeCoordinator(),
      request(API_KEYS.DescribeGroups, 3, { groups: ['g'] }),
    );
    expect((notAsked.groups as { authorizedOperations: number }[])[0]!.authorizedOperations).toBe(-(2 ** 31));
  });

  it('ListGroups passes the v4 states filter', async () => {
    const fake = new FakeCoordinator();
    const r = await serve(fake, request(API_KEYS.ListGroups, 4, { statesFilter: ['stable'] }));
    expect(fake.calls[0]!.request).toEqual(['stable']);
    expect(r.groups).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable' }]);
  });
});

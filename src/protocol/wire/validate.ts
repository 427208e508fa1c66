/**
 * Server-side validation of WebSocket requests: turns a decoded envelope (untrusted CBOR) into a
 * typed request of ops.ts, or throws SluiceError INVALID_REQUEST naming the offending field
 * (UNKNOWN_OPERATION for an unknown op). Unknown fields are ignored (forward compatibility).
 */
import { SluiceError } from '../../errors.ts';
import type { Envelope } from './envelope.ts';
import type {
  AlterConfigsRequest,
  AnyRequest,
  ConfigResourceType,
  CreatePartitionsRequest,
  CreateTopicsRequest,
  DeleteGroupsRequest,
  DeleteTopicsRequest,
  DescribeConfigsRequest,
  DescribeGroupsRequest,
  FetchRequest,
  FindCoordinatorRequest,
  HeartbeatRequest,
  HelloRequest,
  InitProducerIdRequest,
  JoinGroupRequest,
  LeaveGroupRequest,
  ListGroupsRequest,
  ListOffsetsRequest,
  MetadataRequest,
  OffsetCommitRequest,
  OffsetFetchRequest,
  OpName,
  ProduceRequest,
  SyncGroupRequest,
} from './ops.ts';

type Obj = Record<string, unknown>;

function bad(path: string, expected: string): never {
  throw new SluiceError('INVALID_REQUEST', `field "${path}" must be ${expected}`);
}

function obj(value: unknown, path: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    bad(path, 'a map');
  }
  return value as Obj;
}

function int(o: Obj, key: string, path: string, min = -(2 ** 53), max = 2 ** 53): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(`${path}${key}`, `an integer in [${min}, ${max}]`);
  }
  return v;
}

function optInt(o: Obj, key: string, path: string, min?: number, max?: number): number | undefined {
  return o[key] === undefined || o[key] === null ? undefined : int(o, key, path, min, max);
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') bad(`${path}${key}`, 'a string');
  return v;
}

function optStr(o: Obj, key: string, path: string): string | undefined {
  return o[key] === undefined || o[key] === null ? undefined : str(o, key, path);
}

function optBool(o: Obj, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') bad(`${path}${key}`, 'a boolean');
  return v;
}

function arr(o: Obj, key: string, path: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) bad(`${path}${key}`, 'an array');
  return v;
}

function strArray(o: Obj, key: string, path: string): string[] {
  return arr(o, key, path).map((v, i) => {
    if (typeof v !== 'string') bad(`${path}${key}[${i}]`, 'a string');
    return v;
  });
}

function stringMap(o: Obj, key: string, path: string): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const m = obj(v, `${path}${key}`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(m)) {
    if (typeof val !== 'string') bad(`${path}${key}.${k}`, 'a string');
    out[k] = val;
  }
  return out;
}

function bytes(o: Obj, key: string, path: string): Uint8Array {
  const v = o[key];
  if (!(v instanceof Uint8Array)) bad(`${path}${key}`, 'a byte string');
  return v;
}

function nullableStr(o: Obj, key: string, path: string): string | null {
  return optStr(o, key, path) ?? null;
}

/**
 * `topics: [{ topic, partitions: [{ … }] }]`, the shape of every per-partition request; `partition`
 * reads one partition map (`path` names it in errors).
 */
function topicPartitions<P>(
  o: Obj,
  partition: (part: Obj, path: string) => P,
): { topic: string; partitions: P[] }[] {
  return arr(o, 'topics', '').map((t, i) => {
    const p = `topics[${i}].`;
    const topic = obj(t, p.slice(0, -1));
    return {
      topic: str(topic, 'topic', p),
      partitions: arr(topic, 'partitions', p).map((x, j) => {
        const path = `${p}partitions[${j}].`;
        return partition(obj(x, path.slice(0, -1)), path);
      }),
    };
  });
}

function isolation(o: Obj, path: string): 0 | 1 | undefined {
  return optInt(o, 'isolationLevel', path, 0, 1) as 0 | 1 | undefined;
}

const INT32_MAX = 0x7fffffff;

const parsers: { [K in OpName]: (o: Obj) => AnyRequest } = {
  hello: (o): HelloRequest => {
    const clientId = optStr(o, 'clientId', '');
    return {
      op: 'hello',
      protocolVersion: int(o, 'protocolVersion', '', 0, 65535),
      ...(clientId !== undefined && { clientId }),
    };
  },
  metadata: (o): MetadataRequest => {
    const topics = o.topics === undefined || o.topics === null ? null : strArray(o, 'topics', '');
    return {
      op: 'metadata',
      topics,
      allowAutoTopicCreation: optBool(o, 'allowAutoTopicCreation', '') ?? true,
    };
  },
  createTopics: (o): CreateTopicsRequest => ({
    op: 'createTopics',
    validateOnly: optBool(o, 'validateOnly', '') ?? false,
    topics: arr(o, 'topics', '').map((t, i) => {
      const p = `topics[${i}].`;
      const topic = obj(t, p.slice(0, -1));
      const configs = stringMap(topic, 'configs', p);
      return {
        name: str(topic, 'name', p),
        numPartitions: optInt(topic, 'numPartitions', p, -1, INT32_MAX) ?? -1,
        replicationFactor: optInt(topic, 'replicationFactor', p, -1, 32767) ?? -1,
        ...(configs && { configs }),
      };
    }),
  }),
  deleteTopics: (o): DeleteTopicsRequest => ({ op: 'deleteTopics', topics: strArray(o, 'topics', '') }),
  createPartitions: (o): CreatePartitionsRequest => ({
    op: 'createPartitions',
    validateOnly: optBool(o, 'validateOnly', '') ?? false,
    topics: arr(o, 'topics', '').map((t, i) => {
      const p = `topics[${i}].`;
      const topic = obj(t, p.slice(0, -1));
      return { name: str(topic, 'name', p), count: int(topic, 'count', p, 1, INT32_MAX) };
    }),
  }),
  describeConfigs: (o): DescribeConfigsRequest => ({
    op: 'describeConfigs',
    resources: arr(o, 'resources', '').map((r, i) => {
      const p = `resources[${i}].`;
      const res = obj(r, p.slice(0, -1));
      const type = str(res, 'type', p);
      if (type !== 'topic' && type !== 'broker') bad(`${p}type`, '"topic" or "broker"');
      const keys = res.keys === undefined || res.keys === null ? undefined : strArray(res, 'keys', p);
      return { type: type as ConfigResourceType, name: str(res, 'name', p), ...(keys && { keys }) };
    }),
  }),
  alterConfigs: (o): AlterConfigsRequest => ({
    op: 'alterConfigs',
    validateOnly: optBool(o, 'validateOnly', '') ?? false,
    resources: arr(o, 'resources', '').map((r, i) => {
      const p = `resources[${i}].`;
      const res = obj(r, p.slice(0, -1));
      if (str(res, 'type', p) !== 'topic') bad(`${p}type`, '"topic"');
      const set = stringMap(res, 'set', p);
      const del = res.delete === undefined || res.delete === null ? undefined : strArray(res, 'delete', p);
      return {
        type: 'topic' as const,
        name: str(res, 'name', p),
        ...(set && { set }),
        ...(del && { delete: del }),
      };
    }),
  }),
  produce: (o): ProduceRequest => {
    const acks = int(o, 'acks', '', -32768, 32767);
    if (acks !== -1 && acks !== 0 && acks !== 1) {
      throw new SluiceError('INVALID_REQUIRED_ACKS', `acks must be -1, 0 or 1, not ${acks}`);
    }
    const transactionalId = optStr(o, 'transactionalId', '');
    if (transactionalId !== undefined) {
      throw new SluiceError(
        'INVALID_REQUEST',
        'transactions are not supported (transactionalId must be null)',
      );
    }
    return {
      op: 'produce',
      acks,
      timeoutMs: optInt(o, 'timeoutMs', '', 0, INT32_MAX) ?? 30_000,
      topics: topicPartitions(o, (part, path) => {
        const records = part.records;
        if (!(records instanceof Uint8Array)) bad(`${path}records`, 'a byte string');
        return { partition: int(part, 'partition', path, 0, INT32_MAX), records };
      }),
    };
  },
  fetch: (o): FetchRequest => {
    const isolationLevel = isolation(o, '');
    return {
      op: 'fetch',
      maxWaitMs: int(o, 'maxWaitMs', '', 0, INT32_MAX),
      minBytes: optInt(o, 'minBytes', '', 0, INT32_MAX) ?? 1,
      maxBytes: optInt(o, 'maxBytes', '', 1, INT32_MAX) ?? 50 * 1024 * 1024,
      ...(isolationLevel !== undefined && { isolationLevel }),
      topics: topicPartitions(o, (part, path) => {
        return {
          partition: int(part, 'partition', path, 0, INT32_MAX),
          offset: int(part, 'offset', path),
          maxBytes: optInt(part, 'maxBytes', path, 1, INT32_MAX) ?? 1024 * 1024,
        };
      }),
    };
  },
  listOffsets: (o): ListOffsetsRequest => {
    const isolationLevel = isolation(o, '');
    return {
      op: 'listOffsets',
      ...(isolationLevel !== undefined && { isolationLevel }),
      topics: topicPartitions(o, (part, path) => {
        return {
          partition: int(part, 'partition', path, 0, INT32_MAX),
          timestamp: int(part, 'timestamp', path, -3),
        };
      }),
    };
  },
  initProducerId: (o): InitProducerIdRequest => {
    const transactionalId = optStr(o, 'transactionalId', '');
    if (transactionalId !== undefined) {
      throw new SluiceError(
        'INVALID_REQUEST',
        'transactions are not supported (transactionalId must be null)',
      );
    }
    return {
      op: 'initProducerId',
      producerId: optInt(o, 'producerId', '', -1) ?? -1,
      producerEpoch: optInt(o, 'producerEpoch', '', -1, 32767) ?? -1,
    };
  },
  findCoordinator: (o): FindCoordinatorRequest => ({
    op: 'findCoordinator',
    key: str(o, 'key', ''),
    keyType: optInt(o, 'keyType', '', 0, 1) ?? 0,
  }),
  joinGroup: (o): JoinGroupRequest => {
    const sessionTimeoutMs = int(o, 'sessionTimeoutMs', '', 0, INT32_MAX);
    return {
      op: 'joinGroup',
      groupId: str(o, 'groupId', ''),
      sessionTimeoutMs,
      rebalanceTimeoutMs: optInt(o, 'rebalanceTimeoutMs', '', 0, INT32_MAX) ?? sessionTimeoutMs,
      memberId: str(o, 'memberId', ''),
      groupInstanceId: nullableStr(o, 'groupInstanceId', ''),
      protocolType: str(o, 'protocolType', ''),
      protocols: arr(o, 'protocols', '').map((x, i) => {
        const p = `protocols[${i}].`;
        const proto = obj(x, p.slice(0, -1));
        return { name: str(proto, 'name', p), metadata: bytes(proto, 'metadata', p) };
      }),
      reason: nullableStr(o, 'reason', ''),
    };
  },
  syncGroup: (o): SyncGroupRequest => ({
    op: 'syncGroup',
    groupId: str(o, 'groupId', ''),
    generationId: int(o, 'generationId', '', -1, INT32_MAX),
    memberId: str(o, 'memberId', ''),
    groupInstanceId: nullableStr(o, 'groupInstanceId', ''),
    protocolType: nullableStr(o, 'protocolType', ''),
    protocolName: nullableStr(o, 'protocolName', ''),
    assignments: (o.assignments === undefined || o.assignments === null ? [] : arr(o, 'assignments', '')).map(
      (x, i) => {
        const p = `assignments[${i}].`;
        const a = obj(x, p.slice(0, -1));
        return { memberId: str(a, 'memberId', p), assignment: bytes(a, 'assignment', p) };
      },
    ),
  }),
  heartbeat: (o): HeartbeatRequest => ({
    op: 'heartbeat',
    groupId: str(o, 'groupId', ''),
    generationId: int(o, 'generationId', '', -1, INT32_MAX),
    memberId: str(o, 'memberId', ''),
    groupInstanceId: nullableStr(o, 'groupInstanceId', ''),
  }),
  leaveGroup: (o): LeaveGroupRequest => ({
    op: 'leaveGroup',
    groupId: str(o, 'groupId', ''),
    members: arr(o, 'members', '').map((x, i) => {
      const p = `members[${i}].`;
      const m = obj(x, p.slice(0, -1));
      return {
        memberId: str(m, 'memberId', p),
        groupInstanceId: nullableStr(m, 'groupInstanceId', p),
        reason: nullableStr(m, 'reason', p),
      };
    }),
  }),
  offsetCommit: (o): OffsetCommitRequest => ({
    op: 'offsetCommit',
    groupId: str(o, 'groupId', ''),
    generationId: int(o, 'generationId', '', -1, INT32_MAX),
    memberId: str(o, 'memberId', ''),
    groupInstanceId: nullableStr(o, 'groupInstanceId', ''),
    topics: topicPartitions(o, (part, path) => {
      return {
        partition: int(part, 'partition', path, 0, INT32_MAX),
        offset: int(part, 'offset', path, -1),
        leaderEpoch: optInt(part, 'leaderEpoch', path, -1, INT32_MAX) ?? -1,
        metadata: nullableStr(part, 'metadata', path),
      };
    }),
  }),
  offsetFetch: (o): OffsetFetchRequest => ({
    op: 'offsetFetch',
    groupId: str(o, 'groupId', ''),
    topics:
      o.topics === undefined || o.topics === null
        ? null
        : arr(o, 'topics', '').map((t, i) => {
            const p = `topics[${i}].`;
            const topic = obj(t, p.slice(0, -1));
            return {
              topic: str(topic, 'topic', p),
              partitions: arr(topic, 'partitions', p).map((x, j) => {
                if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > INT32_MAX)
                  bad(`${p}partitions[${j}]`, 'a partition number');
                return x;
              }),
            };
          }),
  }),
  describeGroups: (o): DescribeGroupsRequest => ({
    op: 'describeGroups',
    groupIds: strArray(o, 'groupIds', ''),
  }),
  listGroups: (o): ListGroupsRequest => ({
    op: 'listGroups',
    states: o.states === undefined || o.states === null ? [] : strArray(o, 'states', ''),
  }),
  deleteGroups: (o): DeleteGroupsRequest => ({ op: 'deleteGroups', groupIds: strArray(o, 'groupIds', '') }),
};

/** The op named by an envelope (throws UNKNOWN_OPERATION / INVALID_REQUEST). */
export function parseRequest(envelope: Envelope): AnyRequest {
  const op = envelope.op;
  if (typeof op !== 'string') throw new SluiceError('INVALID_REQUEST', 'field "op" must be a string');
  if (!Object.hasOwn(parsers, op)) throw new SluiceError('UNKNOWN_OPERATION', `unknown operation "${op}"`);
  return parsers[op as OpName](envelope);
}

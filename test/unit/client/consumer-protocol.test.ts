/**
 * Kafka ConsumerProtocol bytes as the client writes and reads them: golden bytes from real clients
 * (JoinGroup subscriptions and SyncGroup assignments captured from librdkafka 2.0.2 and kafkajs 2.2.4
 * in test/fixtures/kafka-capture), every subscription version 0–3, the user-data forms that carry a
 * sticky member's generation, and malformed bytes failing with a typed error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  generationUserData,
} from '../../../src/client/consumer-protocol.ts';
import { SluiceError } from '../../../src/errors.ts';
import { ConsumerProtocolSubscription } from '../../../src/protocol/kafka/messages/consumer-protocol-subscription.ts';
import type { JoinGroupRequestData } from '../../../src/protocol/kafka/messages/join-group.ts';
import type { SyncGroupRequestData } from '../../../src/protocol/kafka/messages/sync-group.ts';
import { decodeRequest } from '../../../src/protocol/kafka/request-codec.ts';
import { Writer } from '../../../src/protocol/kafka/writer.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/kafka-capture');

function frames(file: string, api: string): Uint8Array[] {
  const capture = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as {
    frames: { api: string; hex: string }[];
  };
  return capture.frames.filter((f) => f.api === api).map((f) => Buffer.from(f.hex, 'hex'));
}

const joins = (file: string) =>
  frames(file, 'JoinGroup').map((f) => decodeRequest(f).body as JoinGroupRequestData);
const syncs = (file: string) =>
  frames(file, 'SyncGroup').map((f) => decodeRequest(f).body as SyncGroupRequestData);

describe('golden bytes from real clients', () => {
  it("librdkafka's range and roundrobin subscriptions (v1, no owned partitions) are what Sluice writes", () => {
    for (const join of joins('kcat-groups.json')) {
      expect(join.protocols.map((p) => p.name)).toEqual(['range', 'roundrobin']);
      for (const p of join.protocols) {
        const sub = decodeSubscription(p.metadata);
        expect(sub).toMatchObject({ version: 1, ownedPartitions: [], generationId: -1 });
        expect(sub.topics.length).toBeGreaterThan(0);
        expect(Buffer.from(encodeSubscription(sub.topics, [], sub.userData))).toEqual(
          Buffer.from(p.metadata),
        );
      }
    }
  });

  it("kafkajs's RoundRobinAssigner subscription (v0, user data) decodes", () => {
    for (const join of joins('kafkajs-groups.json')) {
      const [p] = join.protocols;
      expect(p!.name).toBe('RoundRobinAssigner');
      const sub = decodeSubscription(p!.metadata);
      expect(sub).toMatchObject({ version: 0, ownedPartitions: [], generationId: -1, rackId: null });
      expect(sub.topics.length).toBeGreaterThan(0);
    }
  });

  it("a librdkafka leader's assignments (v0) are what Sluice writes, and kafkajs's decode", () => {
    const leaders = syncs('kcat-groups.json').filter((s) => s.assignments.length > 0);
    expect(leaders.length).toBeGreaterThan(0);
    for (const sync of leaders) {
      for (const a of sync.assignments) {
        const partitions = decodeAssignment(a.assignment);
        expect(Buffer.from(encodeAssignment(partitions))).toEqual(Buffer.from(a.assignment));
      }
      const all = sync.assignments.flatMap((a) => decodeAssignment(a.assignment));
      expect(new Set(all.map((tp) => `${tp.topic}-${tp.partition}`)).size).toBe(all.length);
    }
    for (const sync of syncs('kafkajs-groups.json').filter((s) => s.assignments.length > 0)) {
      for (const a of sync.assignments) expect(Array.isArray(decodeAssignment(a.assignment))).toBe(true);
    }
  });
});

describe('subscriptions', () => {
  const owned = [
    { topic: 'b', partition: 2 },
    { topic: 'a', partition: 1 },
    { topic: 'b', partition: 0 },
  ];

  it('round-trips what Sluice writes (v1 with owned partitions, grouped by topic)', () => {
    const sub = decodeSubscription(encodeSubscription(['a', 'b'], owned, generationUserData(7)));
    expect(sub).toEqual({
      version: 1,
      topics: ['a', 'b'],
      userData: generationUserData(7),
      ownedPartitions: [
        { topic: 'b', partition: 0 },
        { topic: 'b', partition: 2 },
        { topic: 'a', partition: 1 },
      ],
      generationId: 7, // Java's cooperative-sticky user data
      rackId: null,
    });
  });

  it('reads versions 0 to 3, and a newer version as 3', () => {
    const value = {
      topics: ['t'],
      userData: null,
      ownedPartitions: [{ topic: 't', partitions: [3] }],
      generationId: 12,
      rackId: 'rack-1',
    };
    const expected = [
      { version: 0, ownedPartitions: [], generationId: -1, rackId: null },
      { version: 1, ownedPartitions: [{ topic: 't', partition: 3 }], generationId: -1, rackId: null },
      { version: 2, ownedPartitions: [{ topic: 't', partition: 3 }], generationId: 12, rackId: null },
      { version: 3, ownedPartitions: [{ topic: 't', partition: 3 }], generationId: 12, rackId: 'rack-1' },
    ];
    for (const e of expected) {
      const bytes = ConsumerProtocolSubscription.encodeVersioned(e.version, value);
      expect(decodeSubscription(bytes)).toMatchObject({ topics: ['t'], ...e });
    }
    // Version 4 (unknown): read as 3; fields it may add come after and are ignored.
    const v3 = ConsumerProtocolSubscription.encodeVersioned(3, value);
    const v4 = Uint8Array.from([...v3, 0, 0, 0, 9]);
    v4[1] = 4;
    expect(decodeSubscription(v4)).toMatchObject({ version: 4, generationId: 12, rackId: 'rack-1' });
  });

  it("takes owned partitions and generation from librdkafka's sticky user data", () => {
    const w = new Writer({ initialSize: 64 });
    w.arrayLength(1, false);
    w.string('t', false);
    w.arrayLength(2, false);
    w.int32(0);
    w.int32(4);
    w.int32(9); // generation
    const sub = decodeSubscription(encodeSubscription(['t'], [], w.toBuffer()));
    expect(sub.ownedPartitions).toEqual([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 4 },
    ]);
    expect(sub.generationId).toBe(9);
    // Opaque user data of another assignor is left alone.
    expect(decodeSubscription(encodeSubscription(['t'], [], Uint8Array.of(1, 2, 3))).generationId).toBe(-1);
  });

  it('fails on malformed bytes with a SluiceError, never a crash or a hang', () => {
    const good = encodeSubscription(['topic-a', 'topic-b'], owned);
    for (let cut = 0; cut < good.length; cut++) {
      try {
        decodeSubscription(good.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(SluiceError);
      }
    }
    expect(() => decodeSubscription(Uint8Array.of(0xff, 0xff, 0, 0))).toThrow(SluiceError);
    expect(() => decodeAssignment(Uint8Array.of(0, 0, 0x7f, 0xff, 0xff, 0xff))).toThrow(SluiceError);
  });
});

describe('assignments', () => {
  it('round-trip, sorted within each topic; empty bytes are no partitions', () => {
    const partitions = [
      { topic: 'x', partition: 5 },
      { topic: 'y', partition: 1 },
      { topic: 'x', partition: 2 },
    ];
    expect(decodeAssignment(encodeAssignment(partitions))).toEqual([
      { topic: 'x', partition: 2 },
      { topic: 'x', partition: 5 },
      { topic: 'y', partition: 1 },
    ]);
    expect(decodeAssignment(new Uint8Array(0))).toEqual([]);
    expect(decodeAssignment(encodeAssignment([]))).toEqual([]);
  });
});

/**
 * The broker as a child process, driven over its WebSocket protocol with raw envelopes: topic admin,
 * produce/fetch/listOffsets, long polls, restarts, and bad input of every kind.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBatchHeader } from '../../src/protocol/kafka/record-batch.ts';
import { asStored, makeBatch, recordsOf, splitBatches } from '../helpers/batches.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { fetchPayload, producePayload, RawWsClient } from '../helpers/ws-raw.ts';

let broker: RunningBroker;
let client: RawWsClient;

function topicName(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

async function createTopic(name: string, numPartitions = 1, configs?: Record<string, string>) {
  const r = await client.request('createTopics', {
    topics: [{ name, numPartitions, ...(configs && { configs }) }],
  });
  expect(r.topics).toEqual([expect.objectContaining({ name, numPartitions })]);
}

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--ws-max-frame-bytes', String(4 * 1024 * 1024)] });
  client = await RawWsClient.connect(broker.url);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

describe('broker basics', () => {
  it('answers health checks and hello', async () => {
    expect((await fetch(`${broker.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${broker.httpUrl}/readyz`)).status).toBe(200);
    const hello = await client.request('hello', { protocolVersion: 1, clientId: 'test' });
    expect(hello).toMatchObject({
      protocolVersion: 1,
      server: 'sluice',
      nodeId: 0,
      maxFrameBytes: 4 * 1024 * 1024,
    });
  });

  it('creates, describes, alters, grows and deletes topics with Kafka’s errors', async () => {
    const name = topicName();
    await createTopic(name, 2, { 'retention.ms': '60000' });
    const again = await client.request('createTopics', {
      topics: [
        { name, numPartitions: 1 },
        { name: 'bad name!', numPartitions: 1 },
        { name: topicName(), numPartitions: 1, replicationFactor: 3 },
        { name: topicName(), numPartitions: 1, configs: { 'retention.ms': 'soon' } },
        { name: topicName(), numPartitions: 0 },
      ],
    });
    expect((again.topics as { error: { code: string } }[]).map((t) => t.error.code)).toEqual([
      'TOPIC_ALREADY_EXISTS',
      'INVALID_TOPIC_EXCEPTION',
      'INVALID_REPLICATION_FACTOR',
      'INVALID_CONFIG',
      'INVALID_PARTITIONS',
    ]);
    const meta = await client.request('metadata', { topics: [name] });
    const topic = (meta.topics as { name: string; topicId: string; partitions: unknown[] }[])[0]!;
    expect(topic.partitions).toHaveLength(2);
    expect(topic.topicId).toMatch(/^[0-9a-f-]{36}$/);
    const described = await client.request('describeConfigs', { resources: [{ type: 'topic', name }] });
    const configs = (
      described.resources as { configs: { name: string; value: string; source: string }[] }[]
    )[0]!.configs;
    expect(configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '60000', source: 'TOPIC' });
    expect(configs.find((c) => c.name === 'segment.bytes')).toMatchObject({
      value: '1073741824',
      source: 'DEFAULT',
    });
    const altered = await client.request('alterConfigs', {
      resources: [{ type: 'topic', name, set: { 'max.message.bytes': '2000' }, delete: ['retention.ms'] }],
    });
    expect(altered.resources).toEqual([{ type: 'topic', name }]);
    const after = await client.request('describeConfigs', {
      resources: [{ type: 'topic', name, keys: ['retention.ms', 'max.message.bytes'] }],
    });
    expect((after.resources as { configs: unknown[] }[])[0]!.configs).toEqual([
      expect.objectContaining({ name: 'retention.ms', value: '604800000', source: 'DEFAULT' }),
      expect.objectContaining({ name: 'max.message.bytes', value: '2000', source: 'TOPIC' }),
    ]);
    // The new max.message.bytes is enforced at once.
    const big = await client.request('produce', producePayload(name, 0, makeBatch({ count: 30 })));
    expect(
      (big.topics as { partitions: { error: { code: string } }[] }[])[0]!.partitions[0]!.error.code,
    ).toBe('MESSAGE_TOO_LARGE');
    const grown = await client.request('createPartitions', {
      topics: [
        { name, count: 4 },
        { name, count: 1 },
      ],
    });
    expect(grown.topics).toEqual([
      { name },
      { name, error: expect.objectContaining({ code: 'INVALID_PARTITIONS' }) },
    ]);
    const listed = await client.request('metadata', {});
    expect(
      (listed.topics as { name: string; partitions: unknown[] }[]).find((t) => t.name === name)!.partitions,
    ).toHaveLength(4);
    const deleted = await client.request('deleteTopics', { topics: [name, name + '-missing'] });
    expect(deleted.topics).toEqual([
      { name },
      { name: `${name}-missing`, error: expect.objectContaining({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }) },
    ]);
    expect(fs.existsSync(`${broker.dataDir}/${name}-0`)).toBe(false);
  });

  it('auto-creates topics on metadata requests unless asked not to', async () => {
    const name = topicName();
    const none = await client.request('metadata', { topics: [name], allowAutoTopicCreation: false });
    expect((none.topics as { error: { code: string } }[])[0]!.error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const created = await client.request('metadata', { topics: [name] });
    expect((created.topics as { partitions: unknown[]; error?: unknown }[])[0]).toMatchObject({
      partitions: [expect.anything()],
    });
  });
});

describe('produce and fetch', () => {
  it('round-trips batches byte for byte, with offsets and listOffsets', async () => {
    const name = topicName();
    await createTopic(name, 2);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      const batch = makeBatch({ count: 4, tag: `x${i}`, timestamp: (j) => 1_000 + i * 10 + j });
      sent.push(batch);
      const r = await client.request('produce', producePayload(name, 1, batch));
      expect(r.topics).toEqual([
        {
          topic: name,
          partitions: [{ partition: 1, baseOffset: i * 4, logAppendTime: -1, logStartOffset: 0 }],
        },
      ]);
    }
    const f = await client.request('fetch', fetchPayload(name, 1, 0));
    const part = (f.topics as { partitions: { records: Uint8Array; highWatermark: number }[] }[])[0]!
      .partitions[0]!;
    expect(part.highWatermark).toBe(20);
    const got = splitBatches(part.records);
    expect(got).toHaveLength(5);
    got.forEach((b, i) => {
      expect(Buffer.from(b).equals(Buffer.from(asStored(sent[i]!, i * 4)))).toBe(true);
    });
    const offsets = await client.request('listOffsets', {
      topics: [
        {
          topic: name,
          partitions: [
            { partition: 1, timestamp: -2 },
            { partition: 1, timestamp: -1 },
            { partition: 1, timestamp: 1_021 },
            { partition: 1, timestamp: 99_999 },
          ],
        },
      ],
    });
    expect((offsets.topics as { partitions: unknown[] }[])[0]!.partitions).toEqual([
      { partition: 1, offset: 0, timestamp: -1 },
      { partition: 1, offset: 20, timestamp: -1 },
      { partition: 1, offset: 9, timestamp: 1_021 },
      { partition: 1, offset: -1, timestamp: -1 },
    ]);
  });

  it('parks a fetch until data arrives, and answers an empty long poll at maxWaitMs', async () => {
    const name = topicName();
    await createTopic(name);
    const started = Date.now();
    const parked = client.request('fetch', fetchPayload(name, 0, 0, { maxWaitMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 200));
    await client.request('produce', producePayload(name, 0, makeBatch({ count: 3 })));
    const woke = await parked;
    expect(Date.now() - started).toBeLessThan(5_000);
    const records = await recordsOf(
      (woke.topics as { partitions: { records: Uint8Array }[] }[])[0]!.partitions[0]!.records,
    );
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);

    const t0 = Date.now();
    const empty = await client.request('fetch', fetchPayload(name, 0, 3, { maxWaitMs: 300 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(
      (empty.topics as { partitions: { records: unknown; error?: unknown }[] }[])[0]!.partitions[0],
    ).toMatchObject({ records: null });
  });

  it('reports per-partition errors: unknown partition, offset out of range, corrupt batch', async () => {
    const name = topicName();
    await createTopic(name);
    await client.request('produce', producePayload(name, 0, makeBatch({ count: 2 })));
    const beyond = await client.request('fetch', fetchPayload(name, 0, 5, { maxWaitMs: 5000 }));
    expect(
      (beyond.topics as { partitions: { error: { code: string }; highWatermark: number }[] }[])[0]!
        .partitions[0],
    ).toMatchObject({
      error: { code: 'OFFSET_OUT_OF_RANGE' },
      highWatermark: -1,
    });
    const unknown = await client.request('fetch', fetchPayload(name, 7, 0));
    expect(
      (unknown.topics as { partitions: { error: { code: string } }[] }[])[0]!.partitions[0]!.error.code,
    ).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const bad = makeBatch({ count: 2 });
    bad[bad.length - 3]! ^= 0x40;
    const corrupt = await client.request('produce', producePayload(name, 0, bad));
    expect(
      (corrupt.topics as { partitions: { error: { code: string } }[] }[])[0]!.partitions[0]!.error.code,
    ).toBe('CORRUPT_MESSAGE');
    const noPartition = await client.request('produce', producePayload(name, 3, makeBatch()));
    expect(
      (noPartition.topics as { partitions: { error: { code: string } }[] }[])[0]!.partitions[0]!.error.code,
    ).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('sends no response to acks=0 produce, yet stores the batch', async () => {
    const name = topicName();
    await createTopic(name);
    const id = client.send('produce', producePayload(name, 0, makeBatch({ count: 5 }), 0));
    const answered = client.responseTo(id).then(() => true);
    const hw = await (async () => {
      for (let i = 0; i < 100; i++) {
        const o = await client.request('listOffsets', {
          topics: [{ topic: name, partitions: [{ partition: 0, timestamp: -1 }] }],
        });
        const offset = (o.topics as { partitions: { offset: number }[] }[])[0]!.partitions[0]!.offset;
        if (offset === 5) return offset;
        await new Promise((r) => setTimeout(r, 20));
      }
      return -1;
    })();
    expect(hw).toBe(5);
    expect(await Promise.race([answered, new Promise((r) => setTimeout(() => r(false), 300))])).toBe(false);
  });
});

describe('bad input', () => {
  it('closes a connection that sends garbage, a text frame or an oversized frame; others carry on', async () => {
    const name = topicName();
    await createTopic(name);
    // A second connection produces all along and must lose nothing.
    const steady = await RawWsClient.connect(broker.url);
    let produced = 0;
    let stop = false;
    const steadyLoop = (async () => {
      while (!stop) {
        const r = await steady.request('produce', producePayload(name, 0, makeBatch({ count: 2 })));
        expect(
          (r.topics as { partitions: { error?: unknown }[] }[])[0]!.partitions[0]!.error,
        ).toBeUndefined();
        produced += 2;
      }
    })();

    const garbage = await RawWsClient.connect(broker.url);
    garbage.sendBytes(Buffer.from([0xff, 0x00, 0x13, 0x37]));
    expect(await garbage.closed).toMatchObject({
      code: 1002,
      reason: expect.stringMatching(/^INVALID_FRAME/),
    });

    const notAMap = await RawWsClient.connect(broker.url);
    notAMap.sendBytes(Buffer.from([0x83, 0x01, 0x02, 0x03])); // a CBOR array
    expect((await notAMap.closed).code).toBe(1002);

    const text = await RawWsClient.connect(broker.url);
    text.sendBytes('{"id":1,"op":"metadata"}', false);
    expect((await text.closed).code).toBe(1003);

    const huge = await RawWsClient.connect(broker.url);
    huge.sendBytes(Buffer.alloc(5 * 1024 * 1024));
    expect((await huge.closed).code).toBe(1009);

    // Well-framed but wrong: answered with an error, the connection stays usable.
    const typed = await RawWsClient.connect(broker.url);
    expect(
      (
        await typed.request('produce', {
          acks: 1,
          topics: [{ topic: name, partitions: [{ partition: 'zero', records: 5 }] }],
        })
      ).error,
    ).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('topics[0].partitions[0].'),
    });
    expect((await typed.request('produce', { acks: 2, topics: [] })).error?.code).toBe(
      'INVALID_REQUIRED_ACKS',
    );
    expect((await typed.request('explode', {})).error?.code).toBe('UNKNOWN_OPERATION');
    expect((await typed.request('fetch', { topics: 'all' })).error?.code).toBe('INVALID_REQUEST');
    expect((await typed.request('metadata', { topics: [name] })).topics).toHaveLength(1);
    typed.close();

    stop = true;
    await steadyLoop;
    const f = await steady.request('fetch', {
      maxWaitMs: 0,
      maxBytes: 100 * 1024 * 1024,
      topics: [{ topic: name, partitions: [{ partition: 0, offset: 0, maxBytes: 100 * 1024 * 1024 }] }],
    });
    const hw = (f.topics as { partitions: { highWatermark: number }[] }[])[0]!.partitions[0]!.highWatermark;
    expect(hw).toBe(produced);
    expect(produced).toBeGreaterThan(0);
    steady.close();
    expect((await fetch(`${broker.httpUrl}/healthz`)).status).toBe(200);
  });

  it('keeps memory bounded when a client stops reading its responses', async () => {
    const name = topicName();
    await createTopic(name);
    await client.request('produce', producePayload(name, 0, makeBatch({ count: 40, valueSize: 20_000 })));
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${broker.pid}/status`, 'utf8'))![1]) * 1024;
    const before = rss();
    const hog = await RawWsClient.connect(broker.url);
    // The client stops reading: the broker's responses back up in its send buffer.
    (hog.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    // 500 fetches answered with ~800 KB each: 400 MB if the broker read and buffered them all.
    for (let i = 0; i < 500; i++) hog.send('fetch', fetchPayload(name, 0, 0, { maxBytes: 1 << 20 }));
    await new Promise((r) => setTimeout(r, 2000));
    const grown = rss() - before;
    expect(grown).toBeLessThan(100 * 1024 * 1024);
    // …and the broker still serves everyone else.
    expect((await client.request('metadata', { topics: [name] })).topics).toHaveLength(1);
    hog.ws.terminate();
  });
});

describe('restarts', () => {
  it('keeps topics and records across a graceful restart (SIGTERM exits 0)', async () => {
    const name = topicName();
    await createTopic(name, 3);
    for (let p = 0; p < 3; p++)
      await client.request('produce', producePayload(name, p, makeBatch({ count: 10, tag: `p${p}` })));
    client.close();
    const code = await broker.stop('SIGTERM');
    expect(code).toBe(0);
    expect(broker.stderr()).toMatch(/stopped cleanly/);
    for (let p = 0; p < 3; p++)
      expect(fs.existsSync(`${broker.dataDir}/${name}-${p}/.clean_shutdown`)).toBe(true);
    broker = await startBrokerProcess({
      dataDir: broker.dataDir,
      args: ['--ws-max-frame-bytes', String(4 * 1024 * 1024)],
    });
    client = await RawWsClient.connect(broker.url);
    for (let p = 0; p < 3; p++) {
      const f = await client.request('fetch', fetchPayload(name, p, 0));
      const records = await recordsOf(
        (f.topics as { partitions: { records: Uint8Array }[] }[])[0]!.partitions[0]!.records,
      );
      expect(records.map((r) => Buffer.from(r.key!).toString())).toEqual(
        [...Array(10).keys()].map((i) => `p${p}-k${i}`),
      );
    }
  });

  it('refuses a second broker on the same data directory', async () => {
    await expect(startBrokerProcess({ dataDir: broker.dataDir })).rejects.toThrow(
      /in use by another Sluice broker/,
    );
  });

  it('keeps every acknowledged record when SIGKILLed under acks=all load (100,000 records)', async () => {
    const name = topicName();
    await createTopic(name, 2);
    const producer = await RawWsClient.connect(broker.url);
    const acked: { p: number; base: number; batch: Uint8Array }[] = [];
    let sent = 0;
    let killed = false;
    const lanes = Array.from({ length: 16 }, async (_, lane) => {
      while (!killed && sent < 100_000) {
        const p = lane % 2;
        const batch = makeBatch({ count: 50, valueSize: 60, tag: `l${lane}-${sent}` });
        sent += 50;
        try {
          const r = await producer.request('produce', producePayload(name, p, batch, -1));
          const part = (r.topics as { partitions: { baseOffset: number; error?: unknown }[] }[])[0]!
            .partitions[0]!;
          if (!part.error) acked.push({ p, base: part.baseOffset, batch });
        } catch {
          return; // the connection died with the broker
        }
      }
    });
    while (acked.length * 50 < 40_000) await new Promise((r) => setTimeout(r, 20));
    killed = true;
    await broker.stop('SIGKILL');
    await Promise.all(lanes);
    expect(acked.length).toBeGreaterThan(0);
    broker = await startBrokerProcess({
      dataDir: broker.dataDir,
      args: ['--ws-max-frame-bytes', String(4 * 1024 * 1024)],
    });
    client = await RawWsClient.connect(broker.url);
    for (const p of [0, 1]) {
      const stored = new Map<number, Uint8Array>();
      let offset = 0;
      for (;;) {
        const f = await client.request('fetch', {
          maxWaitMs: 0,
          topics: [{ topic: name, partitions: [{ partition: p, offset, maxBytes: 4 << 20 }] }],
        });
        const batches = splitBatches(
          (f.topics as { partitions: { records: Uint8Array }[] }[])[0]!.partitions[0]!.records,
        );
        if (batches.length === 0) break;
        for (const b of batches) {
          const h = readBatchHeader(b);
          stored.set(h.baseOffset, b);
          offset = h.baseOffset + h.lastOffsetDelta + 1;
        }
      }
      for (const a of acked.filter((x) => x.p === p)) {
        expect(Buffer.from(stored.get(a.base)!).equals(Buffer.from(asStored(a.batch, a.base)))).toBe(true);
      }
    }
  });
});

/**
 * The client library through broker failures (a real broker child process, restarted on the same
 * port and data directory): reconnection after a graceful restart while producing and consuming,
 * an idempotent producer that loses neither nor duplicates records across a SIGKILL, and producer
 * backpressure with a small buffer (and BUFFER_FULL while the broker is frozen).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Connection, Consumer, Producer } from '../../src/client/index.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';

const brokers: RunningBroker[] = [];

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A broker on a fixed port, so that clients find it again after a restart. */
async function start(dataDir?: string, port?: number): Promise<RunningBroker> {
  const p = port ?? (await freePort());
  const broker = await startBrokerProcess({ ...(dataDir ? { dataDir } : {}), args: ['--port', String(p)] });
  brokers.push(broker);
  return broker;
}

function topicName(): string {
  return `restart-${randomUUID().slice(0, 8)}`;
}

const reconnect = { initialDelayMs: 50, maxDelayMs: 500 };

/** Count produce requests that failed (then to be retried by the producer). */
function countFailedProduces(connection: Connection): () => number {
  let failed = 0;
  const request = connection.request.bind(connection);
  connection.request = ((op, body, options) =>
    request(op, body, options).catch((err: unknown) => {
      if (op === 'produce') failed++;
      throw err;
    })) as Connection['request'];
  return () => failed;
}

afterEach(async () => {
  for (const b of brokers.splice(0)) {
    try {
      process.kill(b.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    await b.stop('SIGKILL');
    fs.rmSync(b.dataDir, { recursive: true, force: true });
  }
});

describe('client across broker restarts', () => {
  it('reconnects after a graceful restart (SIGTERM) and reads everything back', async () => {
    let broker = await start();
    const port = Number(new URL(broker.url).port);
    const topic = topicName();
    const admin = new Admin({ bootstrap: broker.url, reconnect });
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    const connection = new Connection({ bootstrap: broker.url, reconnect });
    const failed = countFailedProduces(connection);
    const producer = new Producer({ connection, idempotent: true, batchBytes: 8192 });
    const consumer = new Consumer({ bootstrap: broker.url, reconnect, maxWaitMs: 200 });
    consumer.assign([0, 1].map((partition) => ({ topic, partition, offset: 0 })));

    const total = 20_000;
    let yielded = 0;
    let restarted: Promise<void> | undefined;
    function* records() {
      for (let i = 0; i < total; i++) {
        yielded = i;
        if (i === total / 2) {
          // Restart in the middle of the stream; the producer keeps going and waits for it.
          restarted = broker.restart().then((b) => {
            brokers.push(b);
            broker = b;
          });
        }
        yield { topic, key: `k${i % 100}`, value: `v${i}` };
      }
    }
    const seen = new Map<string, number>();
    const reading = (async () => {
      for await (const batch of consumer.batches()) {
        for (const r of batch) seen.set(r.valueString()!, (seen.get(r.valueString()!) ?? 0) + 1);
        if (seen.size >= total) return;
      }
    })();
    await producer.sendMany(records());
    await restarted;
    expect(yielded).toBe(total - 1);
    expect(Number(new URL(broker.url).port)).toBe(port);
    await reading;
    expect(seen.size).toBe(total);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    // Offsets are contiguous from 0 in both partitions: nothing lost or doubled in the log.
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((n, o) => n + o.high - o.low, 0)).toBe(total);
    expect(failed()).toBeGreaterThan(0); // the restart interrupted produce requests in flight
    await Promise.all([producer.close(), consumer.close(), admin.close()]);
    await connection.close();
  });

  it('an idempotent producer loses and duplicates nothing when the broker is SIGKILLed and restarted', async () => {
    const first = await start();
    const port = Number(new URL(first.url).port);
    const topic = topicName();
    const admin = new Admin({ bootstrap: first.url, reconnect });
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    const connection = new Connection({ bootstrap: first.url, reconnect });
    const failed = countFailedProduces(connection);
    const producer = new Producer({
      connection,
      idempotent: true,
      batchBytes: 4096, // many small batches: a deep window of them is in flight at the kill
      lingerMs: 0,
      retryBackoffMs: 50,
    });
    const total = 40_000;
    let killed: Promise<void> | undefined;
    function* records() {
      for (let i = 0; i < total; i++) {
        if (i === 15_000) {
          killed = (async () => {
            await first.stop('SIGKILL');
            await start(first.dataDir, port);
          })();
        }
        yield { topic, partition: 0, value: String(i) };
      }
    }
    await producer.sendMany(records());
    await killed;
    await producer.close();
    await connection.close();
    // The kill really caught produce requests in flight, which were resent.
    expect(failed()).toBeGreaterThan(0);

    const consumer = new Consumer({ bootstrap: first.url, maxWaitMs: 200 });
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const values: number[] = [];
    for await (const batch of consumer.batches()) {
      const cursor = batch.cursor();
      while (cursor.next()) values.push(Number(new TextDecoder().decode(cursor.value()!)));
      if (values.length >= total) break;
    }
    await consumer.close();
    // Exactly 0 … total − 1, in order: no loss, no duplicate, no reordering.
    expect(values.length).toBe(total);
    expect(values.every((v, i) => v === i)).toBe(true);
    const [offsets] = await admin.fetchTopicOffsets(topic);
    expect(offsets!.high).toBe(total);
    await admin.close();
  });

  it('backpressure: a small buffer bounds what is held, and BUFFER_FULL comes only after maxBlockMs', async () => {
    const broker = await start();
    const topic = topicName();
    const bufferBytes = 64 * 1024;
    const producer = new Producer({
      bootstrap: broker.url,
      bufferBytes,
      batchBytes: 16 * 1024,
      maxBlockMs: 500,
    });
    const value = new Uint8Array(100);
    let peak = 0;
    function* records() {
      for (let i = 0; i < 50_000; i++) {
        peak = Math.max(peak, producer.bufferedBytes);
        yield { topic, value };
      }
    }
    await producer.sendMany(records());
    expect(peak).toBeGreaterThan(bufferBytes / 2);
    expect(peak).toBeLessThanOrEqual(bufferBytes + 200);

    // Freeze the broker: nothing completes, the buffer fills, the next send gives up after maxBlockMs.
    process.kill(broker.pid, 'SIGSTOP');
    const filler = producer.sendMany(Array.from({ length: 1000 }, () => ({ topic, value })));
    const started = performance.now();
    await expect(producer.send({ topic, value })).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    process.kill(broker.pid, 'SIGCONT');
    // The filler hit BUFFER_FULL too (it holds more than the buffer); what it enqueued is stored.
    await expect(filler).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    await producer.flush();
    expect(producer.bufferedBytes).toBe(0);
    await producer.close();
  });
});

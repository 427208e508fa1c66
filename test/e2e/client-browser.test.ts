/**
 * The browser build of the client against the real broker. src/client/index.ts is bundled by esbuild
 * for platform 'browser' (with the browser stand-ins for the Node-only codec modules) and with
 * `globalThis.process` and `globalThis.Buffer` compiled away, so the bundle takes every browser code
 * path: the global WebSocket (here `ws`'s WHATWG-style class, binaryType 'arraybuffer'), the pure-JS
 * CRC-32C (the broker checks every batch's CRC natively), plain Uint8Array encoding, and gzip through
 * CompressionStream.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { sluiceBrowserPlugin } from '../../src/client/browser-build.ts';
import type * as Client from '../../src/client/index.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';

let broker: RunningBroker;
let dir: string;
let Sluice: typeof Client;
const globals = globalThis as { WebSocket?: unknown };
const savedWebSocket = globals.WebSocket;

beforeAll(async () => {
  broker = await startBrokerProcess();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-browser-'));
  const result = await build({
    entryPoints: ['src/client/index.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [sluiceBrowserPlugin()],
    define: { 'globalThis.process': 'undefined', 'globalThis.Buffer': 'undefined' },
  });
  const file = path.join(dir, 'sluice-browser.mjs');
  fs.writeFileSync(file, result.outputFiles[0]!.text);
  globals.WebSocket = WebSocket;
  Sluice = (await import(pathToFileURL(file).href)) as typeof Client;
});

afterAll(async () => {
  globals.WebSocket = savedWebSocket;
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function topicName(): string {
  return `browser-${randomUUID().slice(0, 8)}`;
}

describe('browser bundle against the broker', () => {
  it('produces keyed records with headers and reads them back byte for byte', async () => {
    const topic = topicName();
    const admin = new Sluice.Admin({ bootstrap: broker.url });
    await admin.createTopics([{ name: topic, numPartitions: 3 }]);
    const producer = new Sluice.Producer({ bootstrap: broker.url, batchBytes: 8192 });
    const sent = Array.from({ length: 1000 }, (_, i) => ({
      topic,
      key: `user-${i % 17}`,
      value: `event ${i} ${'é'.repeat(i % 7)}`,
      headers: { source: 'browser', n: String(i) },
      timestamp: 1_700_000_000_000 + i,
    }));
    const results = await producer.sendBatch(sent);
    await producer.close();
    for (const [i, r] of results.entries()) expect(r.partition).toBe(Sluice.partitionForKey(sent[i]!.key, 3));

    const consumer = new Sluice.Consumer({ bootstrap: broker.url });
    consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, offset: 0 })));
    const got = new Map<string, { key: string; value: string; headers: string[]; timestamp: number }>();
    for await (const r of consumer) {
      got.set(`${r.partition}/${r.offset}`, {
        key: r.keyString()!,
        value: r.valueString()!,
        headers: r.headers.map((h) => `${h.key}=${new TextDecoder().decode(h.value!)}`),
        timestamp: r.timestamp,
      });
      if (got.size === sent.length) break;
    }
    await consumer.close();
    for (const [i, s] of sent.entries()) {
      expect(got.get(`${results[i]!.partition}/${results[i]!.offset}`)).toEqual({
        key: s.key,
        value: s.value,
        headers: ['source=browser', `n=${i}`],
        timestamp: s.timestamp,
      });
    }
    await admin.close();
  });

  it('produces gzip batches (CompressionStream) and refuses codecs a browser lacks, saying so', async () => {
    const topic = topicName();
    const producer = new Sluice.Producer({ bootstrap: broker.url, compression: 'gzip' });
    await producer.sendMany(
      Array.from({ length: 500 }, (_, i) => ({ topic, partition: 0, value: `gz ${i}` })),
    );
    await producer.close();
    const consumer = new Sluice.Consumer({ bootstrap: broker.url });
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const values: string[] = [];
    for await (const batch of consumer.batches()) {
      expect(batch.compression).toBe('gzip');
      for (const r of batch) values.push(r.valueString()!);
      if (values.length >= 500) break;
    }
    await consumer.close();
    expect(values).toEqual(Array.from({ length: 500 }, (_, i) => `gz ${i}`));

    const lz4 = new Sluice.Producer({ bootstrap: broker.url, compression: 'lz4' });
    await expect(lz4.connect()).rejects.toMatchObject({ code: 'UNSUPPORTED_COMPRESSION_TYPE' });
    await lz4.close();
  });
});

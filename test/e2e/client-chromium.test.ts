/**
 * The client library in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) loads a page serving the esbuild browser bundle of src/client/index.ts, and the
 * page produces and consumes against the broker child process over its WebSocket protocol, with the
 * browser's own WebSocket, TextEncoder, CompressionStream (gzip) and the pure-JS CRC-32C.
 *
 * In CI (CI=true) a missing Chromium is a failure; elsewhere the test is skipped with a message.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluiceBrowserPlugin } from '../../src/client/browser-build.ts';
import { recordsOf } from '../helpers/batches.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { RawWsClient } from '../helpers/ws-raw.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM);
if (!available && process.env.CI === 'true') {
  throw new Error(`Chromium is required in CI (expected at ${CHROMIUM}; .ci/run installs Debian's chromium)`);
}
if (!available) console.warn(`client-chromium: skipped, no Chromium at ${CHROMIUM}`);

// What the page runs: the public API only, as an application in a browser would use it.
const PAGE_SCRIPT = `
import * as Sluice from './sluice.mjs';
window.runClient = async (bootstrap, topic) => {
  const admin = new Sluice.Admin({ bootstrap });
  await admin.createTopics([{ name: topic, numPartitions: 2 }]);
  const producer = new Sluice.Producer({ bootstrap, compression: 'gzip', lingerMs: 0 });
  const sent = [];
  for (let i = 0; i < 50; i++) {
    const meta = await producer.send({ topic, key: 'user-' + (i % 5), value: 'event ' + i + ' ✓', headers: { browser: 'chromium' } });
    sent.push({ partition: meta.partition, offset: meta.offset });
  }
  await producer.close();
  const consumer = new Sluice.Consumer({ bootstrap });
  consumer.assign([0, 1].map((partition) => ({ topic, partition, offset: 'earliest' })));
  const got = [];
  for await (const r of consumer) {
    got.push({ partition: r.partition, offset: r.offset, key: r.keyString(), value: r.valueString(),
               header: new TextDecoder().decode(r.headers[0].value) });
    if (got.length === 50) break;
  }
  await consumer.close();
  await admin.close();
  return { sent, got, userAgent: navigator.userAgent };
};
`;

let broker: RunningBroker;
let server: http.Server;
let pageUrl: string;
let browser: Browser | undefined;

describe.skipIf(!available)('client library in headless Chromium', () => {
  beforeAll(async () => {
    broker = await startBrokerProcess();
    const bundle = await build({
      entryPoints: ['src/client/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      plugins: [sluiceBrowserPlugin()],
    });
    const files: Record<string, [string, string]> = {
      '/': [
        'text/html',
        `<!doctype html><meta charset="utf-8"><script type="module" src="/page.mjs"></script>`,
      ],
      '/page.mjs': ['text/javascript', PAGE_SCRIPT],
      '/sluice.mjs': ['text/javascript', bundle.outputFiles[0]!.text],
    };
    server = http.createServer((req, res) => {
      const file = files[req.url ?? '/'];
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': `${file[0]}; charset=utf-8` }).end(file[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await broker?.stop();
    if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
  });

  it('produces gzip batches and consumes them back from a page, byte-identical for Node readers', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pageUrl);
    await page.waitForFunction(
      () => typeof (window as unknown as { runClient?: unknown }).runClient === 'function',
    );
    const topic = `chromium-${randomUUID().slice(0, 8)}`;
    const result = (await page.evaluate(
      ([bootstrap, t]) =>
        (window as unknown as { runClient: (b: string, t: string) => Promise<unknown> }).runClient(
          bootstrap!,
          t!,
        ),
      [broker.url, topic],
    )) as {
      sent: { partition: number; offset: number }[];
      got: { partition: number; offset: number; key: string; value: string; header: string }[];
      userAgent: string;
    };
    expect(errors).toEqual([]);
    expect(result.userAgent).toMatch(/Chrome/);
    expect(result.got).toHaveLength(50);
    // Every record the page sent came back to it, keys on their murmur2 partitions, in order per partition.
    const byOffset = (a: { partition: number; offset: number }, b: { partition: number; offset: number }) =>
      a.partition - b.partition || a.offset - b.offset;
    expect(result.got.map(({ partition, offset }) => ({ partition, offset })).sort(byOffset)).toEqual(
      [...result.sent].sort(byOffset),
    );
    expect(new Set(result.got.map((r) => r.header))).toEqual(new Set(['chromium']));
    // A Node reader sees the same records in the stored gzip batches.
    const node = await RawWsClient.connect(broker.url);
    const fetched = await node.request('fetch', {
      maxWaitMs: 0,
      topics: [
        {
          topic,
          partitions: [
            { partition: 0, offset: 0 },
            { partition: 1, offset: 0 },
          ],
        },
      ],
    });
    const records = [];
    for (const p of (fetched.topics as { partitions: { records: Uint8Array }[] }[])[0]!.partitions)
      records.push(...(await recordsOf(p.records)));
    node.close();
    expect(records.map((r) => Buffer.from(r.value!).toString()).sort()).toEqual(
      result.got.map((r) => r.value).sort(),
    );
    await page.close();
  });
});

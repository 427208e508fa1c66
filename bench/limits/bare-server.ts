/**
 * The bare pipeline's server (see bare-protocol.ts): a `ws` WebSocket server on the main thread that
 * hands what arrives to one worker thread, which appends it to a file or reads it back. What the
 * DESIGN.md performance notes found matters is done here too, and nothing else: the buffer `ws`
 * received is transferred when it is a whole ArrayBuffer (else copied once), and everything that
 * arrived during one turn of the event loop goes to the worker in one message (setImmediate).
 *
 *   node --import tsx bench/limits/bare-server.ts --dir DIR      prints "bare ready ws://127.0.0.1:PORT"
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { type WebSocket, WebSocketServer } from 'ws';
import { type BareItem, type BareReplies, HEADER, OP_APPEND, OP_READ } from './bare-protocol.ts';

const { values: args } = parseArgs({
  options: { dir: { type: 'string' }, port: { type: 'string', default: '0' } },
});
const dir = args.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bare-'));
// Node 20 does not run a .ts worker entry even with `--import tsx` (it rejects the extension before
// any loader runs): a one-line bootstrap registers tsx in the thread, then imports the worker.
const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => {
  tsx.register();
  return import(${JSON.stringify(new URL('./bare-worker.ts', import.meta.url).href)});
});`;
const worker = new Worker(bootstrap, { eval: true, workerData: { file: path.join(dir, 'bare.log') } });

let client: WebSocket | undefined;
let outbox: BareItem[] = [];
let transfer: ArrayBuffer[] = [];
let scheduled = false;

function drain(): void {
  scheduled = false;
  const items = outbox;
  const list = transfer;
  outbox = [];
  transfer = [];
  worker.postMessage(items, list);
}

function header(op: number, corr: number, bodyLength: number): Buffer {
  const frame = Buffer.allocUnsafe(HEADER + bodyLength);
  frame[0] = op;
  frame.writeUInt32LE(corr, 1);
  return frame;
}

worker.on('message', (replies: BareReplies) => {
  const ws = client;
  if (!ws) return;
  for (const corr of replies.appended) ws.send(header(OP_APPEND, corr, 0));
  for (const r of replies.reads) {
    const frame = Buffer.from(r.buf.buffer, r.buf.byteOffset, r.buf.length);
    frame[0] = OP_READ;
    frame.writeUInt32LE(r.corr, 1);
    ws.send(frame);
  }
});

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(args.port), maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  client = ws;
  ws.on('message', (data: Buffer) => {
    const op = data[0]!;
    const corr = data.readUInt32LE(1);
    if (op === OP_APPEND) {
      let body: Uint8Array;
      if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) {
        body = new Uint8Array(data.buffer, HEADER);
        transfer.push(data.buffer as ArrayBuffer);
      } else {
        body = new Uint8Array(data.subarray(HEADER)); // one copy, into a buffer of its own
        transfer.push(body.buffer as ArrayBuffer);
      }
      outbox.push({ op: OP_APPEND, corr, buf: body });
    } else {
      outbox.push({ op: OP_READ, corr, max: data.readUInt32LE(HEADER) });
    }
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  });
});
wss.on('listening', () => {
  const address = wss.address();
  const port = typeof address === 'string' ? address : address?.port;
  process.stdout.write(`bare ready ws://127.0.0.1:${port} dir=${dir}\n`);
});
const shutdown = () => {
  wss.close();
  void worker.terminate().then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

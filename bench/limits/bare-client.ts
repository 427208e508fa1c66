/**
 * The bare pipeline's load generator (see bare-protocol.ts), a process of its own:
 *
 *   produce  encodes ~16 KiB RecordBatch v2 batches of `--record-size` values (RecordBatchBuilder:
 *            varints, CRC-32C; a timestamp per record, as the Sluice producer takes one) and keeps
 *            `--in-flight` of them on one WebSocket until `--records` are acknowledged;
 *   consume  keeps `--in-flight` reads of `--read-bytes` outstanding and decodes every record of
 *            what comes back (CRC-32C of each batch, then a RecordCursor over its records, as the
 *            Sluice consumer does by default), until the end of the file.
 * Prints one JSON object: { records, seconds, records_per_sec, mb_per_sec }.
 *
 *   node --import tsx bench/limits/bare-client.ts produce|consume --url ws://… [--records N]
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { crc32cRange } from '../../src/protocol/kafka/crc32c.ts';
import { BATCH_HEADER_SIZE, RecordCursor, readBatchHeader } from '../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../src/protocol/kafka/record-batch-builder.ts';
import { HEADER, OP_APPEND, OP_READ } from './bare-protocol.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    records: { type: 'string', default: '5000000' },
    'record-size': { type: 'string', default: '100' },
    'batch-bytes': { type: 'string', default: '16384' },
    'in-flight': { type: 'string' },
    'read-bytes': { type: 'string', default: String(1024 * 1024) },
  },
});
const mode = positionals[0];
if ((mode !== 'produce' && mode !== 'consume') || !args.url) {
  process.stderr.write('usage: bare-client.ts produce|consume --url ws://HOST:PORT [--records N]\n');
  process.exit(2);
}
const RECORD_SIZE = Number(args['record-size']);
const BATCH_BYTES = Number(args['batch-bytes']);

const ws = new WebSocket(args.url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
await new Promise<void>((resolve, reject) => {
  ws.once('open', resolve);
  ws.once('error', reject);
});

function frame(op: number, corr: number, body: Uint8Array): Buffer {
  const f = Buffer.allocUnsafe(HEADER + body.length);
  f[0] = op;
  f.writeUInt32LE(corr, 1);
  f.set(body, HEADER);
  return f;
}

function report(records: number, bytes: number, ms: number): void {
  const seconds = ms / 1000;
  process.stdout.write(
    `${JSON.stringify({ records, seconds, records_per_sec: Math.round(records / seconds), mb_per_sec: Number((bytes / 1e6 / seconds).toFixed(2)) })}\n`,
  );
}

async function produce(): Promise<void> {
  const total = Number(args.records);
  const inFlight = Number(args['in-flight'] ?? 32);
  const value = Buffer.alloc(RECORD_SIZE, 0x61);
  const perBatch = new Map<number, number>();
  let issued = 0;
  let acked = 0;
  let corr = 0;
  let outstanding = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const fill = () => {
      while (outstanding < inFlight && issued < total) {
        const builder = new RecordBatchBuilder({ initialCapacity: BATCH_BYTES + 1024 });
        let n = 0;
        while (issued + n < total && builder.sizeInBytes + RECORD_SIZE + 16 <= BATCH_BYTES) {
          builder.append({ value, timestamp: Date.now() });
          n++;
        }
        issued += n;
        perBatch.set(++corr, n);
        outstanding++;
        ws.send(frame(OP_APPEND, corr, builder.buildSync()));
      }
    };
    ws.on('message', (data: Buffer) => {
      const c = data.readUInt32LE(1);
      acked += perBatch.get(c)!;
      perBatch.delete(c);
      outstanding--;
      if (acked >= total) resolve();
      else fill();
    });
    fill();
  });
  report(acked, acked * RECORD_SIZE, performance.now() - t0);
}

async function consume(): Promise<void> {
  const inFlight = Number(args['in-flight'] ?? 4);
  const readBytes = Number(args['read-bytes']);
  const max = Buffer.allocUnsafe(4);
  max.writeUInt32LE(readBytes, 0);
  let corr = 0;
  let records = 0;
  let bytes = 0;
  let ended = false;
  let outstanding = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const ask = () => {
      outstanding++;
      ws.send(frame(OP_READ, ++corr, max));
    };
    ws.on('message', (data: Buffer) => {
      outstanding--;
      const body = data.subarray(HEADER);
      if (body.length === 0) ended = true;
      let at = 0;
      while (at < body.length) {
        const batch = body.subarray(at, at + 12 + body.readInt32BE(at + 8));
        if (crc32cRange(batch, 21, batch.length) !== batch.readUInt32BE(17)) {
          reject(new Error(`CRC mismatch at ${at}`));
          return;
        }
        const cursor = new RecordCursor(batch.subarray(BATCH_HEADER_SIZE), readBatchHeader(batch));
        while (cursor.next()) {
          records++;
          bytes += cursor.valueLength;
        }
        at += batch.length;
      }
      if (!ended) ask();
      else if (outstanding === 0) resolve();
    });
    for (let i = 0; i < inFlight; i++) ask();
  });
  report(records, bytes, performance.now() - t0);
}

await (mode === 'produce' ? produce() : consume());
ws.close();

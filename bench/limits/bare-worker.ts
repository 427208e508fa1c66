/**
 * The bare pipeline's worker thread: owns one file, appends the batches it is sent with one vectored
 * write per message, and answers reads with the next whole batches (a header walk, as a broker's
 * fetch does, so that a batch is never cut in two).
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { BareItem, BareReplies } from './bare-protocol.ts';
import { HEADER, OP_APPEND } from './bare-protocol.ts';

const fd = fs.openSync((workerData as { file: string }).file, 'a+');
let readPosition = 0;

function wholeBatches(buf: Uint8Array, n: number): number {
  const view = new DataView(buf.buffer, buf.byteOffset, n);
  let at = 0;
  // A batch is 12 bytes (baseOffset, batchLength) plus batchLength.
  while (at + 12 <= n) {
    const size = 12 + view.getInt32(at + 8);
    if (at + size > n) break;
    at += size;
  }
  return at;
}

parentPort!.on('message', (items: BareItem[]) => {
  const appended: number[] = [];
  const writes: Uint8Array[] = [];
  const reads: BareReplies['reads'] = [];
  const transfer: ArrayBuffer[] = [];
  const flush = () => {
    if (writes.length > 0) fs.writevSync(fd, writes);
    writes.length = 0;
  };
  for (const item of items) {
    if (item.op === OP_APPEND) {
      writes.push(item.buf);
      appended.push(item.corr);
    } else {
      flush();
      // Room for the answer's header in front, so that the main thread sends this buffer as it is.
      const buf = Buffer.allocUnsafeSlow(HEADER + item.max);
      const n = fs.readSync(fd, buf, HEADER, item.max, readPosition);
      const whole = wholeBatches(buf.subarray(HEADER), n);
      readPosition += whole;
      reads.push({ corr: item.corr, buf: buf.subarray(0, HEADER + whole) });
      transfer.push(buf.buffer as ArrayBuffer);
    }
  }
  flush();
  const replies: BareReplies = { appended: Int32Array.from(appended), reads };
  parentPort!.postMessage(replies, [replies.appended.buffer as ArrayBuffer, ...transfer]);
});

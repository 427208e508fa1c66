/**
 * Walks the batch headers of a `.log` file without reading whole batches: reads blocks of the file
 * and parses only the fields needed to move from batch to batch (baseOffset, batchLength,
 * lastOffsetDelta). Used by reads (find the batch holding an offset), recovery and rebuilds.
 *
 * A header is "plausible" when its batchLength is at least the v2 header size; the scanner never
 * trusts more than that (recovery validates CRCs separately).
 *
 * Worker-thread only (synchronous file reads on a descriptor the worker owns).
 */
import fs from 'node:fs';
import {
  BATCH_HEADER_SIZE,
  BatchField,
  LOG_OVERHEAD,
  type RecordBatchHeader,
  readBatchHeader,
} from '../protocol/kafka/record-batch.ts';

const BLOCK_SIZE = 64 * 1024;
/** Bytes of a header the scanner needs: up to and including lastOffsetDelta. */
const SCAN_HEADER_BYTES = BatchField.lastOffsetDelta + 4;

export interface ScannedBatch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

export class BatchScanner {
  private block: Buffer;
  private blockStart = 0;
  private blockLength = 0;

  constructor(
    private readonly fd: number,
    private readonly end: number,
    blockSize = BLOCK_SIZE,
  ) {
    this.block = Buffer.allocUnsafeSlow(blockSize);
  }

  /** The batch header at `position`, or undefined at the end of the file or on an implausible header. */
  at(position: number): ScannedBatch | undefined {
    if (position + SCAN_HEADER_BYTES > this.end) return undefined;
    if (position < this.blockStart || position + SCAN_HEADER_BYTES > this.blockStart + this.blockLength) {
      this.fill(position);
      if (this.blockLength < SCAN_HEADER_BYTES) return undefined;
    }
    const at = position - this.blockStart;
    const batchLength = this.block.readInt32BE(at + BatchField.batchLength);
    if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) return undefined;
    const size = batchLength + LOG_OVERHEAD;
    if (position + size > this.end) return undefined;
    const baseOffset = readInt64(this.block, at + BatchField.baseOffset);
    const lastOffset = baseOffset + this.block.readInt32BE(at + BatchField.lastOffsetDelta);
    return { position, size, baseOffset, lastOffset };
  }

  /** The full v2 header of a batch found by `at` (for producer-state replay and time rolls). */
  header(batch: ScannedBatch): RecordBatchHeader {
    const p = batch.position;
    if (p < this.blockStart || p + BATCH_HEADER_SIZE > this.blockStart + this.blockLength) this.fill(p);
    return readBatchHeader(this.block, p - this.blockStart);
  }

  /**
   * The bytes [from, to) if they lie inside the block read last (saves a second read when a
   * caller wants the bytes it just scanned), else undefined. The result shares the block's memory.
   */
  cached(from: number, to: number): Buffer | undefined {
    if (from >= this.blockStart && to <= this.blockStart + this.blockLength) {
      return this.block.subarray(from - this.blockStart, to - this.blockStart);
    }
    return undefined;
  }

  /** Give up ownership of the current block (the caller keeps a view of it). */
  detachBlock(): void {
    this.block = Buffer.allocUnsafeSlow(this.block.length);
    this.blockLength = 0;
    this.blockStart = 0;
  }

  private fill(position: number): void {
    const want = Math.min(this.block.length, this.end - position);
    this.blockStart = position;
    this.blockLength = want > 0 ? fs.readSync(this.fd, this.block, 0, want, position) : 0;
  }
}

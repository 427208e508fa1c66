/**
 * What a consumer hands out: one fetched RecordBatch v2 of one partition, read lazily.
 *
 * DESIGN.md measured that creating a view object per record (a `subarray` for key and value) and
 * collecting it was ~45% of consumer time, and that reading through offsets into the batch buffer was
 * 1.7× faster. So nothing is decoded up front: `cursor()` walks the records with no allocation at all
 * (positions into the buffer; `key()`/`value()` make views only when called), and iterating the batch
 * yields small `ConsumerRecord` objects holding positions, whose `key`, `value` and `headers` are
 * materialised only when read. Records below the fetch offset (the broker returns whole batches, from
 * the one containing the requested offset) are skipped by both.
 *
 * Compressed batches are decompressed once, ahead of time, while the consumer is busy with earlier
 * batches (`load()`, started when the batch arrives).
 */
import { SluiceError } from '../errors.ts';
import {
  BATCH_HEADER_SIZE,
  type CompressionName,
  type RecordBatchHeader,
  RecordCursor,
  type RecordHeader,
  readBatchHeader,
  recordsSection,
} from '../protocol/kafka/record-batch.ts';
import { VarintReader } from '../protocol/kafka/varint.ts';

export type { RecordHeader };

const utf8 = new TextDecoder();

/** A cursor that skips records below `from`. */
class FromOffsetCursor extends RecordCursor {
  readonly #from: number;

  constructor(section: Uint8Array, header: RecordBatchHeader, from: number) {
    super(section, header);
    this.#from = from;
  }

  override next(): boolean {
    while (super.next()) if (this.offset >= this.#from) return true;
    return false;
  }
}

/** What the records of one batch share: one object per batch, so each record stays small. */
export interface RecordSource {
  readonly topic: string;
  readonly partition: number;
  /** The batch's records section (decompressed when the batch was compressed). */
  readonly section: Uint8Array;
}

/**
 * One record of a batch, read lazily: `offset` and `timestamp` are plain fields; `key`, `value` and
 * `headers` are decoded from the batch buffer each time they are read (views, no copies). Kept to
 * a few fields, since one is allocated per record.
 */
export class ConsumerRecord {
  readonly offset: number;
  /** Milliseconds since the epoch (CreateTime, or the broker's append time on LogAppendTime topics). */
  readonly timestamp: number;
  readonly #source: RecordSource;
  readonly #keyStart: number;
  readonly #keyLength: number;
  readonly #valueStart: number;
  readonly #valueLength: number;
  readonly #end: number;

  /** The record the cursor is on; `source.section` must be the cursor's section. */
  constructor(source: RecordSource, cursor: RecordCursor) {
    this.offset = cursor.offset;
    this.timestamp = cursor.timestamp;
    this.#source = source;
    this.#keyStart = cursor.keyStart;
    this.#keyLength = cursor.keyLength;
    this.#valueStart = cursor.valueStart;
    this.#valueLength = cursor.valueLength;
    this.#end = cursor.recordEnd;
  }

  /** The record's topic. */
  get topic(): string {
    return this.#source.topic;
  }

  /** The record's partition. */
  get partition(): number {
    return this.#source.partition;
  }

  /** The key (a view into the batch), or null. */
  get key(): Uint8Array | null {
    const n = this.#keyLength;
    return n < 0 ? null : this.#source.section.subarray(this.#keyStart, this.#keyStart + n);
  }

  /** The value (a view into the batch), or null (a tombstone). */
  get value(): Uint8Array | null {
    const n = this.#valueLength;
    return n < 0 ? null : this.#source.section.subarray(this.#valueStart, this.#valueStart + n);
  }

  /** The headers in order; header values are views into the batch. */
  get headers(): RecordHeader[] {
    const out: RecordHeader[] = [];
    const section = this.#source.section;
    // The header count follows the value (the cursor validated the whole record).
    const r = new VarintReader(section, this.#valueStart + Math.max(0, this.#valueLength), this.#end);
    const count = r.readVarInt();
    for (let i = 0; i < count; i++) {
      const keyLength = r.readVarInt();
      const key = utf8.decode(section.subarray(r.pos, r.pos + keyLength));
      r.pos += keyLength;
      const valueLength = r.readVarInt();
      const value = valueLength < 0 ? null : section.subarray(r.pos, r.pos + valueLength);
      if (valueLength > 0) r.pos += valueLength;
      out.push({ key, value });
    }
    return out;
  }

  /** The key decoded as UTF-8 (null for a null key). */
  keyString(): string | null {
    const key = this.key;
    return key === null ? null : utf8.decode(key);
  }

  /** The value decoded as UTF-8 (null for a tombstone). */
  valueString(): string | null {
    const value = this.value;
    return value === null ? null : utf8.decode(value);
  }
}

/**
 * Iterates a batch's records (a class rather than a generator: generator steps cost about as much as
 * the records themselves). The result object is reused, as the iterator protocol allows.
 */
class RecordIterator implements Iterator<ConsumerRecord> {
  readonly #source: RecordSource;
  readonly #cursor: RecordCursor;
  readonly #result: { done: boolean; value: ConsumerRecord | undefined } = { done: false, value: undefined };

  constructor(source: RecordSource, cursor: RecordCursor) {
    this.#source = source;
    this.#cursor = cursor;
  }

  next(): IteratorResult<ConsumerRecord> {
    const result = this.#result;
    if (this.#cursor.next()) {
      result.value = new ConsumerRecord(this.#source, this.#cursor);
    } else {
      result.done = true;
      result.value = undefined;
    }
    return result as IteratorResult<ConsumerRecord>;
  }

  [Symbol.iterator](): Iterator<ConsumerRecord> {
    return this;
  }
}

/** One fetched batch of one partition; see the module comment. */
export class ConsumerBatch {
  readonly topic: string;
  readonly partition: number;
  /** The batch as fetched (RecordBatch v2 bytes, a view into the fetch response). */
  readonly bytes: Uint8Array;
  /** The batch header. */
  readonly header: RecordBatchHeader;
  /** Offset of the first record handed out: records below it are skipped. */
  readonly firstOffset: number;
  /** Offset of the batch's last record. */
  readonly lastOffset: number;
  /** The partition's high watermark when the batch was fetched (lag = highWatermark − offset − 1). */
  readonly highWatermark: number;
  /** @internal The partition's seek generation when fetched (a seek makes older batches stale). */
  readonly epoch: number;
  #section: Uint8Array | undefined;
  #source: RecordSource | undefined;
  #loading: Promise<void> | undefined;
  #error: SluiceError | undefined;

  /** @internal Made by the fetcher. */
  constructor(
    topic: string,
    partition: number,
    bytes: Uint8Array,
    firstOffset: number,
    highWatermark: number,
    epoch: number,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.bytes = bytes;
    this.header = readBatchHeader(bytes);
    this.firstOffset = Math.max(firstOffset, this.header.baseOffset);
    this.lastOffset = this.header.baseOffset + this.header.lastOffsetDelta;
    this.highWatermark = highWatermark;
    this.epoch = epoch;
  }

  /** Codec the batch was written with. */
  get compression(): CompressionName {
    return this.header.compression;
  }

  /** True once the records can be read synchronously (always, unless compressed and still decompressing). */
  get loaded(): boolean {
    return this.#section !== undefined || this.header.compression === 'none';
  }

  /** @internal Decompression failure, if any. */
  get error(): SluiceError | undefined {
    return this.#error;
  }

  /** Decompress (once) if compressed; resolves when `loaded`. */
  load(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    this.#loading ??= recordsSection(this.bytes).then(
      (section) => {
        this.#section = section;
      },
      (err: unknown) => {
        this.#error =
          err instanceof SluiceError ? err : new SluiceError('CORRUPT_MESSAGE', String(err), { cause: err });
        throw this.#error;
      },
    );
    return this.#loading;
  }

  /** @internal What this batch's ConsumerRecords share (made once). */
  get source(): RecordSource {
    this.#source ??= { topic: this.topic, partition: this.partition, section: this.#records() };
    return this.#source;
  }

  /**
   * A cursor over the records from `firstOffset` on: the fastest way to read a batch (no allocation
   * per record). After `next()` returns true, `offset`, `timestamp`, `key()`, `value()` and
   * `headers()` describe the current record.
   */
  cursor(): RecordCursor {
    // Only the first batch of a fetch can start below the fetch offset; the plain cursor saves a
    // virtual call per record everywhere else.
    return this.firstOffset > this.header.baseOffset
      ? new FromOffsetCursor(this.#records(), this.header, this.firstOffset)
      : new RecordCursor(this.#records(), this.header);
  }

  /** The records from `firstOffset` on, as lazy ConsumerRecord objects. */
  [Symbol.iterator](): Iterator<ConsumerRecord> {
    return new RecordIterator(this.source, this.cursor());
  }

  /** The records from `firstOffset` on, as an array of lazy ConsumerRecord objects. */
  records(): ConsumerRecord[] {
    const out: ConsumerRecord[] = [];
    const cursor = this.cursor();
    const source = this.source;
    while (cursor.next()) out.push(new ConsumerRecord(source, cursor));
    return out;
  }

  #records(): Uint8Array {
    if (this.#section) return this.#section;
    if (this.header.compression !== 'none') {
      throw new SluiceError(
        'UNSUPPORTED_COMPRESSION_TYPE',
        'a compressed batch must be load()ed before reading',
      );
    }
    // A view from the end of the header to the end of the batch.
    this.#section = this.bytes.subarray(BATCH_HEADER_SIZE, this.bytes.length);
    return this.#section;
  }
}

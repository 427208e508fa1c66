import { describe, expect, it } from 'vitest';
import {
  Attribute,
  BATCH_HEADER_SIZE,
  BatchField,
  batchSizeAt,
  type CompressionName,
  checkBatch,
  checkProducedBatch,
  compressionCode,
  compressionName,
  decodeRecordBatch,
  findRecordByTimestamp,
  forEachBatch,
  iterateBatches,
  LOG_OVERHEAD,
  MAGIC_V2,
  openRecordCursor,
  openRecordCursorSync,
  readBatchHeader,
  readInt64,
  recordsSection,
  recordsSectionSync,
  setBaseOffset,
  setMaxTimestampAndType,
  setPartitionLeaderEpoch,
  summarizeRecords,
  summarizeRecordsSync,
  updateCrc,
  writeInt16,
  writeInt32,
} from '../../../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../../../src/protocol/kafka/record-batch-builder.ts';
import { assembleBatch, encodeRecord, expectSluiceError, seeded, text, utf8 } from './batch-helpers.ts';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const T = 1_700_000_000_000;

async function build(
  records: Parameters<RecordBatchBuilder['append']>[0][],
  options: ConstructorParameters<typeof RecordBatchBuilder>[0] = {},
): Promise<Uint8Array> {
  const builder = new RecordBatchBuilder(options);
  for (const r of records) builder.append(r);
  return builder.build();
}

describe('constants', () => {
  it('match the RecordBatch v2 layout', () => {
    expect(LOG_OVERHEAD).toBe(12);
    expect(BATCH_HEADER_SIZE).toBe(61);
    expect(MAGIC_V2).toBe(2);
    expect(BatchField).toEqual({
      baseOffset: 0,
      batchLength: 8,
      partitionLeaderEpoch: 12,
      magic: 16,
      crc: 17,
      attributes: 21,
      lastOffsetDelta: 23,
      baseTimestamp: 27,
      maxTimestamp: 35,
      producerId: 43,
      producerEpoch: 51,
      baseSequence: 53,
      recordsCount: 57,
      records: 61,
    });
  });

  it('map compression names and codes both ways', () => {
    CODECS.forEach((name, code) => {
      expect(compressionCode(name)).toBe(code);
      expect(compressionName(code)).toBe(name);
    });
    expect(() => compressionName(5)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_COMPRESSION_TYPE' }),
    );
  });
});

describe('RecordBatchBuilder → decodeRecordBatch', () => {
  const records = [
    { key: 'user-1', value: 'hello', timestamp: T, headers: { 'trace-id': 'abc', empty: '', gone: null } },
    { key: null, value: new Uint8Array([0, 1, 2, 255]), timestamp: T + 10 },
    { key: utf8('bytes-key'), value: null, timestamp: T - 5 },
    {
      value: 'zażółć gęślą jaźń 🔑',
      timestamp: T + 3,
      headers: [
        { key: 'ünïcödé', value: utf8('värde') },
        { key: 'dup', value: '1' },
        { key: 'dup', value: null },
      ],
    },
    { key: '', value: '', timestamp: T + 10 },
  ];

  it.each(CODECS)(
    '%s: keys, null keys/values, headers (null values, UTF-8) and timestamps survive',
    async (codec) => {
      const batch = await build(records, { compression: codec });
      expect(checkBatch(batch)).toBeUndefined();
      const decoded = await decodeRecordBatch(batch);
      expect(decoded.compression).toBe(codec);
      expect(decoded.records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
      expect(decoded.records.map((r) => r.timestamp)).toEqual([T, T + 10, T - 5, T + 3, T + 10]);
      expect(decoded.records.map((r) => text(r.key))).toEqual(['user-1', null, 'bytes-key', null, '']);
      expect([...decoded.records[1]!.value!]).toEqual([0, 1, 2, 255]);
      expect(decoded.records[2]!.value).toBeNull();
      expect(text(decoded.records[3]!.value)).toBe('zażółć gęślą jaźń 🔑');
      expect(text(decoded.records[4]!.value)).toBe('');
      expect(decoded.records[0]!.headers.map((h) => [h.key, text(h.value)])).toEqual([
        ['trace-id', 'abc'],
        ['empty', ''],
        ['gone', null],
      ]);
      expect(decoded.records[3]!.headers.map((h) => [h.key, text(h.value)])).toEqual([
        ['ünïcödé', 'värde'],
        ['dup', '1'],
        ['dup', null],
      ]);
    },
  );

  it('writes the producer header fields', async () => {
    const batch = await build(records, {
      producerId: 2 ** 40 + 7,
      producerEpoch: 3,
      baseSequence: 99,
      isTransactional: true,
      compression: 'lz4',
    });
    expect(readBatchHeader(batch)).toEqual({
      baseOffset: 0,
      batchLength: batch.length - 12,
      partitionLeaderEpoch: -1,
      magic: 2,
      crc: readBatchHeader(batch).crc,
      attributes: 3 | Attribute.transactional,
      compression: 'lz4',
      timestampType: 'CreateTime',
      isTransactional: true,
      isControl: false,
      lastOffsetDelta: 4,
      baseTimestamp: T, // the first record's, even though a later one is earlier
      maxTimestamp: T + 10,
      producerId: 2 ** 40 + 7,
      producerEpoch: 3,
      baseSequence: 99,
      recordsCount: 5,
    });
    expect(checkProducedBatch(batch)).toBeUndefined();
  });

  it('defaults to a non-idempotent producer and Date.now() timestamps', async () => {
    const before = Date.now();
    const builder = new RecordBatchBuilder();
    builder.append({ value: 'x' });
    const batch = builder.buildSync();
    const header = readBatchHeader(batch);
    expect([header.producerId, header.producerEpoch, header.baseSequence]).toEqual([-1, -1, -1]);
    expect(header.baseTimestamp).toBeGreaterThanOrEqual(before);
    expect(header.baseTimestamp).toBeLessThanOrEqual(Date.now());
    expect(header.compression).toBe('none');
  });

  it('grows its buffer, reports its size, and encodes strings that outgrow their length guess', async () => {
    const builder = new RecordBatchBuilder({ initialCapacity: 100 });
    const values: string[] = [];
    for (let i = 0; i < 500; i++) {
      // 'é' is 2 bytes: 40 of them guess a 1-byte length varint and need 2; the key likewise.
      const value = i % 3 === 0 ? 'é'.repeat(40 + (i % 50)) : `value-${i}-${'x'.repeat(i % 200)}`;
      values.push(value);
      builder.append({ key: 'ключ'.repeat(i % 20), value, timestamp: T + i });
      expect(builder.count).toBe(i + 1);
    }
    builder.append({ value: new Uint8Array(100_000).fill(7), timestamp: T });
    const size = builder.sizeInBytes;
    const batch = builder.buildSync();
    expect(batch.length).toBe(size);
    expect(checkBatch(batch)).toBeUndefined();
    const decoded = await decodeRecordBatch(batch);
    expect(decoded.records.slice(0, 500).map((r) => text(r.value))).toEqual(values);
    expect(decoded.records.slice(0, 500).map((r) => text(r.key))).toEqual(
      values.map((_, i) => 'ключ'.repeat(i % 20)),
    );
    expect(decoded.records[500]!.value!.length).toBe(100_000);
    // The last record has no key.
    expect(summarizeRecordsSync(batch)).toEqual({
      maxTimestamp: T + 499,
      offsetDeltaOfMaxTimestamp: 499,
      allKeysPresent: false,
    });
  });

  it('makes room for large header values and long non-ASCII header strings', async () => {
    // Regression: the room check once left header sizes out and wrote past the buffer.
    const builder = new RecordBatchBuilder({ initialCapacity: 64 });
    const big = new Uint8Array(10_000).fill(1);
    const wide = '€'.repeat(3000); // 3 bytes per UTF-16 unit
    builder.append({ value: 'v', headers: [{ key: 'big', value: big }], timestamp: T });
    builder.append({ value: 'v', headers: { [wide]: wide }, timestamp: T });
    const decoded = await decodeRecordBatch(builder.buildSync());
    expect(decoded.records[0]!.headers[0]!.value!.length).toBe(10_000);
    expect(decoded.records[1]!.headers.map((h) => [h.key, text(h.value)])).toEqual([[wide, wide]]);
  });

  it('round-trips 300 random batches of random strings, bytes and headers from a tiny initial buffer', async () => {
    const rand = seeded(31337);
    const alphabet = ['a', 'Z', '0', ' ', 'é', 'ж', '€', '🔑', '\u0000', '\uffff'];
    const randomString = (max: number): string =>
      Array.from(
        { length: Math.floor(rand() ** 3 * max) },
        () => alphabet[Math.floor(rand() * alphabet.length)],
      ).join('');
    const randomField = (max: number): string | Uint8Array | null => {
      const pick = rand();
      if (pick < 0.15) return null;
      if (pick < 0.55) return randomString(max);
      return Uint8Array.from({ length: Math.floor(rand() ** 3 * max) }, () => Math.floor(rand() * 256));
    };
    const bytesOf = (f: string | Uint8Array | null): number[] | null =>
      f === null ? null : [...(typeof f === 'string' ? utf8(f) : f)];
    for (let b = 0; b < 300; b++) {
      const builder = new RecordBatchBuilder({ initialCapacity: 1 + Math.floor(rand() * 200) });
      const expected: {
        key: number[] | null;
        value: number[] | null;
        headers: [string, number[] | null][];
      }[] = [];
      for (let r = 0, n = 1 + Math.floor(rand() * 20); r < n; r++) {
        const key = randomField(300);
        const value = randomField(3000);
        const headers = Array.from({ length: Math.floor(rand() * 4) }, () => ({
          key: randomString(100),
          value: randomField(500),
        }));
        builder.append({ key, value, headers, timestamp: T + Math.floor((rand() - 0.5) * 1e6) });
        expected.push({
          key: bytesOf(key),
          value: bytesOf(value),
          headers: headers.map((h) => [h.key, bytesOf(h.value)]),
        });
      }
      const batch = builder.buildSync();
      expect(checkBatch(batch)).toBeUndefined();
      summarizeRecordsSync(batch);
      const decoded = await decodeRecordBatch(batch);
      expect(
        decoded.records.map((r) => ({
          key: r.key && [...r.key],
          value: r.value && [...r.value],
          headers: r.headers.map((h) => [h.key, h.value && [...h.value]]),
        })),
      ).toEqual(expected);
    }
  });

  it('refuses misuse: empty batch, build twice, append after build, buildSync of a compressed batch', async () => {
    await expectSluiceError(() => new RecordBatchBuilder().build(), 'INVALID_RECORD');
    const builder = new RecordBatchBuilder();
    builder.append({ value: 'a' });
    builder.buildSync();
    expect(() => builder.buildSync()).toThrow();
    expect(() => builder.append({ value: 'b' })).toThrow();
    const gz = new RecordBatchBuilder({ compression: 'gzip' });
    gz.append({ value: 'a' });
    expect(() => gz.buildSync()).toThrow();
  });
});

describe('header access and patching', () => {
  it('batchSizeAt needs 12 bytes', async () => {
    const batch = await build([{ value: 'a', timestamp: T }]);
    expect(batchSizeAt(batch, 0)).toBe(batch.length);
    expect(batchSizeAt(batch.subarray(0, 11), 0)).toBeUndefined();
    expect(batchSizeAt(batch.subarray(0, 12), 0)).toBe(batch.length);
  });

  it('readBatchHeader needs 61 bytes', async () => {
    const batch = await build([{ value: 'a', timestamp: T }]);
    await expectSluiceError(() => readBatchHeader(batch.subarray(0, 60)), 'CORRUPT_MESSAGE');
    await expectSluiceError(() => readBatchHeader(batch, 10), 'CORRUPT_MESSAGE');
  });

  it('setBaseOffset and setPartitionLeaderEpoch leave the CRC valid and offsets follow', async () => {
    const batch = await build([
      { value: 'a', timestamp: T },
      { value: 'b', timestamp: T },
    ]);
    const framed = new Uint8Array(batch.length + 10);
    framed.set(batch, 10);
    setBaseOffset(framed, 10, 2 ** 53 - 2);
    setPartitionLeaderEpoch(framed, 10, 7);
    expect(checkBatch(framed, 10)).toBeUndefined();
    const view = framed.subarray(10);
    const header = readBatchHeader(view);
    expect([header.baseOffset, header.partitionLeaderEpoch]).toEqual([2 ** 53 - 2, 7]);
    expect((await decodeRecordBatch(view)).records.map((r) => r.offset)).toEqual([2 ** 53 - 2, 2 ** 53 - 1]);
    setBaseOffset(framed, 10, -1);
    expect(readInt64(framed, 10)).toBe(-1);
  });

  it.each(CODECS)(
    '%s: setMaxTimestampAndType switches to LogAppendTime and back, keeping the CRC valid',
    async (codec) => {
      const batch = await build(
        [
          { value: 'a', timestamp: T },
          { value: 'b', timestamp: T + 5 },
        ],
        { compression: codec },
      );
      setMaxTimestampAndType(batch, 0, T + 1000, true);
      expect(checkBatch(batch)).toBeUndefined();
      const header = readBatchHeader(batch);
      expect([header.maxTimestamp, header.timestampType, header.compression]).toEqual([
        T + 1000,
        'LogAppendTime',
        codec,
      ]);
      // Kafka's rule: with LogAppendTime every record carries the batch's maxTimestamp.
      expect((await decodeRecordBatch(batch)).records.map((r) => r.timestamp)).toEqual([T + 1000, T + 1000]);
      expect(await findRecordByTimestamp(batch, T + 1000)).toEqual({ offset: 0, timestamp: T + 1000 });
      setMaxTimestampAndType(batch, 0, T + 5, false);
      expect(checkBatch(batch)).toBeUndefined();
      expect((await decodeRecordBatch(batch)).records.map((r) => r.timestamp)).toEqual([T, T + 5]);
    },
  );
});

describe('checkBatch', () => {
  async function valid(): Promise<Uint8Array> {
    return build([
      { key: 'k', value: 'v', timestamp: T },
      { value: 'w', timestamp: T },
    ]);
  }

  it('accepts a valid batch at any position and inside a larger buffer', async () => {
    const batch = await valid();
    const buf = new Uint8Array(batch.length + 20);
    buf.set(batch, 7);
    expect(checkBatch(buf, 7, 7 + batch.length)).toBeUndefined();
  });

  it('CORRUPT_MESSAGE: bad CRC, wrong magic, wrong length, too short, bounds outside the buffer', async () => {
    const batch = await valid();
    const badCrc = Uint8Array.from(batch);
    badCrc[batch.length - 1]! ^= 1;
    expect(checkBatch(badCrc)).toMatchObject({
      code: 'CORRUPT_MESSAGE',
      message: expect.stringMatching(/CRC/),
    });
    const badMagic = Uint8Array.from(batch);
    badMagic[BatchField.magic] = 1;
    expect(checkBatch(badMagic)).toMatchObject({
      code: 'CORRUPT_MESSAGE',
      message: expect.stringMatching(/magic/),
    });
    expect(checkBatch(batch, 0, batch.length - 1)?.code).toBe('CORRUPT_MESSAGE');
    const longer = new Uint8Array(batch.length + 1);
    longer.set(batch);
    expect(checkBatch(longer)?.code).toBe('CORRUPT_MESSAGE');
    expect(checkBatch(batch.subarray(0, 60))?.code).toBe('CORRUPT_MESSAGE');
    expect(checkBatch(batch, 0, batch.length + 5)?.code).toBe('CORRUPT_MESSAGE');
  });

  it('UNSUPPORTED_COMPRESSION_TYPE for codecs 5–7 (with a valid CRC)', async () => {
    for (const codec of [5, 6, 7]) {
      const batch = await valid();
      writeInt16(batch, BatchField.attributes, codec);
      updateCrc(batch, 0, batch.length);
      expect(checkBatch(batch)?.code).toBe('UNSUPPORTED_COMPRESSION_TYPE');
      await expectSluiceError(() => recordsSection(batch), 'UNSUPPORTED_COMPRESSION_TYPE');
      await expectSluiceError(() => summarizeRecords(batch), 'UNSUPPORTED_COMPRESSION_TYPE');
    }
  });

  it('INVALID_RECORD: no records, or lastOffsetDelta + 1 ≠ recordsCount (with a valid CRC)', async () => {
    const empty = await valid();
    writeInt32(empty, BatchField.recordsCount, 0);
    writeInt32(empty, BatchField.lastOffsetDelta, -1);
    updateCrc(empty, 0, empty.length);
    expect(checkBatch(empty)?.code).toBe('INVALID_RECORD');
    const mismatch = await valid();
    writeInt32(mismatch, BatchField.lastOffsetDelta, 5);
    updateCrc(mismatch, 0, mismatch.length);
    expect(checkBatch(mismatch)).toMatchObject({
      code: 'INVALID_RECORD',
      message: expect.stringMatching(/lastOffsetDelta/),
    });
  });

  it('checkProducedBatch also refuses control batches and idempotent batches without a sequence', async () => {
    const control = await valid();
    writeInt16(control, BatchField.attributes, Attribute.control);
    updateCrc(control, 0, control.length);
    expect(checkBatch(control)).toBeUndefined();
    expect(checkProducedBatch(control)?.code).toBe('INVALID_RECORD');
    const noSequence = await build([{ value: 'a', timestamp: T }], { producerId: 5, producerEpoch: 0 });
    expect(checkProducedBatch(noSequence)?.code).toBe('INVALID_RECORD');
    const idempotent = await build([{ value: 'a', timestamp: T }], {
      producerId: 5,
      producerEpoch: 0,
      baseSequence: 0,
    });
    expect(checkProducedBatch(idempotent)).toBeUndefined();
  });
});

describe('several batches in one buffer', () => {
  it('forEachBatch and iterateBatches yield whole batches and stop at a partial one', async () => {
    const a = await build([{ value: 'a', timestamp: T }]);
    const b = await build(
      [
        { value: 'bb', timestamp: T },
        { value: 'c', timestamp: T },
      ],
      { compression: 'gzip' },
    );
    const c = await build([{ value: 'ccc', timestamp: T }]);
    const all = Buffer.concat([a, b, c]);
    for (const cut of [all.length, all.length - 1, all.length - c.length + 11, all.length - c.length + 3]) {
      const buf = all.subarray(0, cut);
      const seen: [number, number][] = [];
      const stop = forEachBatch(buf, (pos, size) => seen.push([pos, size]));
      const whole = cut === all.length ? 3 : 2;
      expect(seen).toEqual(
        [
          [0, a.length],
          [a.length, b.length],
          [a.length + b.length, c.length],
        ].slice(0, whole),
      );
      expect(stop).toBe(whole === 3 ? all.length : a.length + b.length);
      expect([...iterateBatches(buf)].map((v) => v.length)).toEqual(
        [a.length, b.length, c.length].slice(0, whole),
      );
    }
  });

  it('an impossible batch length is CORRUPT_MESSAGE, not an endless loop', async () => {
    const buf = new Uint8Array(40);
    writeInt32(buf, 8, -12); // size 0
    await expectSluiceError(() => forEachBatch(buf, () => {}), 'CORRUPT_MESSAGE');
    await expectSluiceError(() => [...iterateBatches(buf)], 'CORRUPT_MESSAGE');
  });
});

describe('RecordCursor', () => {
  it('exposes positions and lazy views of the current record', async () => {
    const batch = await build([
      { key: 'k1', value: 'v1', timestamp: T, headers: { h: 'x' } },
      { key: null, value: null, timestamp: T - 1 },
    ]);
    setBaseOffset(batch, 0, 100);
    const cursor = openRecordCursorSync(batch);
    const section = recordsSectionSync(batch);
    expect([cursor.section.byteOffset, cursor.section.length]).toEqual([section.byteOffset, section.length]);
    expect(section.byteOffset).toBe(batch.byteOffset + BATCH_HEADER_SIZE);
    expect(cursor.next()).toBe(true);
    expect([cursor.offset, cursor.offsetDelta, cursor.timestamp, cursor.timestampDelta]).toEqual([
      100,
      0,
      T,
      0,
    ]);
    expect(text(section.subarray(cursor.keyStart, cursor.keyStart + cursor.keyLength))).toBe('k1');
    expect(text(cursor.key())).toBe('k1');
    expect(text(cursor.value())).toBe('v1');
    expect(cursor.value()!.buffer).toBe(batch.buffer); // a view, not a copy
    expect(cursor.headerCount).toBe(1);
    expect(cursor.headers().map((h) => [h.key, text(h.value)])).toEqual([['h', 'x']]);
    expect(cursor.recordStart).toBe(0);
    const firstEnd = cursor.recordEnd;
    expect(cursor.next()).toBe(true);
    expect(cursor.recordStart).toBe(firstEnd);
    expect([
      cursor.offset,
      cursor.timestamp,
      cursor.timestampDelta,
      cursor.keyLength,
      cursor.valueLength,
    ]).toEqual([101, T - 1, -1, -1, -1]);
    expect([cursor.key(), cursor.value(), cursor.headers()]).toEqual([null, null, []]);
    expect(cursor.recordEnd).toBe(section.length);
    expect(cursor.next()).toBe(false);
    expect(cursor.next()).toBe(false);
  });

  it('walks decompressed sections too', async () => {
    const batch = await build(
      [
        { value: 'a', timestamp: T },
        { value: 'b', timestamp: T },
      ],
      { compression: 'zstd' },
    );
    await expectSluiceError(() => openRecordCursorSync(batch), 'UNSUPPORTED_COMPRESSION_TYPE');
    await expectSluiceError(() => summarizeRecordsSync(batch), 'UNSUPPORTED_COMPRESSION_TYPE');
    const cursor = await openRecordCursor(batch);
    const values: (string | null)[] = [];
    while (cursor.next()) values.push(text(cursor.value()));
    expect(values).toEqual(['a', 'b']);
  });
});

describe('summarizeRecords and findRecordByTimestamp', () => {
  // Not monotonic: negative deltas, the max twice (the first one counts), a null key.
  const timestamps = [T + 100, T + 50, T + 300, T - 20, T + 300, T + 200];

  it.each(CODECS)(
    '%s: true max timestamp and first record ≥ a target, with negative deltas',
    async (codec) => {
      const batch = await build(
        timestamps.map((timestamp, i) => ({ key: i === 3 ? null : `k${i}`, value: `v${i}`, timestamp })),
        { compression: codec },
      );
      setBaseOffset(batch, 0, 1000);
      const summary = { maxTimestamp: T + 300, offsetDeltaOfMaxTimestamp: 2, allKeysPresent: false };
      expect(await summarizeRecords(batch)).toEqual(summary);
      if (codec === 'none') expect(summarizeRecordsSync(batch)).toEqual(summary);
      expect(await findRecordByTimestamp(batch, T - 100)).toEqual({ offset: 1000, timestamp: T + 100 });
      expect(await findRecordByTimestamp(batch, T + 60)).toEqual({ offset: 1000, timestamp: T + 100 });
      expect(await findRecordByTimestamp(batch, T + 101)).toEqual({ offset: 1002, timestamp: T + 300 });
      expect(await findRecordByTimestamp(batch, T + 300)).toEqual({ offset: 1002, timestamp: T + 300 });
      expect(await findRecordByTimestamp(batch, T + 301)).toBeUndefined();
    },
  );

  it('trusts the records, not kafkajs-style approximate header timestamps', async () => {
    const records = [T + 5, T - 10, T + 40].map((t, i) =>
      encodeRecord({ timestampDelta: t - T, offsetDelta: i, key: utf8('k'), value: utf8('v') }),
    );
    const batch = await assembleBatch(records, { baseTimestamp: T, maxTimestamp: T });
    expect(summarizeRecordsSync(batch)).toEqual({
      maxTimestamp: T + 40,
      offsetDeltaOfMaxTimestamp: 2,
      allKeysPresent: true,
    });
  });

  it.each(['none', 'lz4'] as const)(
    '%s: offset deltas out of order are INVALID_RECORD',
    async (compression) => {
      const records = [0, 2, 1].map((offsetDelta) =>
        encodeRecord({ timestampDelta: 0, offsetDelta, value: utf8('v') }),
      );
      const batch = await assembleBatch(records, { compression });
      expect(checkBatch(batch)).toBeUndefined();
      const err = await expectSluiceError(() => summarizeRecords(batch), 'INVALID_RECORD');
      expect(err.message).toMatch(/offsetDelta/);
    },
  );

  it.each(['none', 'gzip'] as const)(
    '%s: fewer or more records than recordsCount are INVALID_RECORD',
    async (compression) => {
      const records = [0, 1, 2].map((offsetDelta) =>
        encodeRecord({ timestampDelta: 0, offsetDelta, value: utf8('v') }),
      );
      const fewer = await assembleBatch(records, { compression, recordsCount: 4, lastOffsetDelta: 3 });
      await expectSluiceError(() => summarizeRecords(fewer), 'INVALID_RECORD');
      const more = await assembleBatch(records, { compression, recordsCount: 2, lastOffsetDelta: 1 });
      await expectSluiceError(() => summarizeRecords(more), 'INVALID_RECORD');
    },
  );

  it('a record that does not fit its section or its own length is CORRUPT_MESSAGE', async () => {
    const record = encodeRecord({
      timestampDelta: 0,
      offsetDelta: 0,
      key: utf8('key'),
      value: utf8('value'),
    });
    const cut = await assembleBatch([record.subarray(0, record.length - 1)]);
    await expectSluiceError(() => summarizeRecords(cut), 'CORRUPT_MESSAGE');
    // Key length claims more than the record holds.
    const lying = Uint8Array.from(record);
    lying[4] = 0x7e; // keyLength varint (after length, attributes, timestampDelta, offsetDelta) := 63
    await expectSluiceError(async () => summarizeRecords(await assembleBatch([lying])), 'CORRUPT_MESSAGE');
    // A header with a null key.
    const nullHeaderKey = encodeRecord({
      timestampDelta: 0,
      offsetDelta: 0,
      value: utf8('v'),
      headers: [{ key: utf8('h'), value: null }],
    });
    nullHeaderKey[nullHeaderKey.length - 3] = 0x01; // header key length := -1
    await expectSluiceError(
      async () => summarizeRecords(await assembleBatch([nullHeaderKey])),
      'CORRUPT_MESSAGE',
    );
  });
});

/**
 * The cleaner's per-batch filter and the relaxed checks for stored (cleaned) batches: survivors
 * keep their offsets, header fields and codec; tombstones get a delete horizon without their
 * timestamps changing and go once it passes; cleaned batches pass checkStoredBatch and
 * summarizeStoredRecords (but not the producer-side checks), and damaged ones still fail.
 */
import { describe, expect, it } from 'vitest';
import {
  Attribute,
  BatchField,
  checkBatch,
  checkStoredBatch,
  decodeRecordBatch,
  openRecordCursor,
  readBatchHeader,
  setBaseOffset,
  summarizeRecords,
  summarizeStoredRecords,
  updateCrc,
  writeInt32,
} from '../../../src/protocol/kafka/record-batch.ts';
import {
  RecordBatchBuilder,
  type RecordBatchBuilderOptions,
} from '../../../src/protocol/kafka/record-batch-builder.ts';
import { type FilterContext, filterBatch, mapBatchKeys } from '../../../src/storage/cleaner-filter.ts';

const T0 = 1_700_000_000_000;

async function batch(
  records: { key: string | null; value: string | null; timestamp?: number }[],
  options: RecordBatchBuilderOptions = {},
  baseOffset = 100,
): Promise<Uint8Array> {
  const b = new RecordBatchBuilder(options);
  for (const r of records) b.append({ key: r.key, value: r.value, timestamp: r.timestamp ?? T0 });
  const out = new Uint8Array(await b.build());
  setBaseOffset(out, 0, baseOffset);
  return out;
}

function ctx(latest: Record<string, number>, now = T0 + 1000, deleteRetentionMs = 5000): FilterContext {
  return { latest: new Map(Object.entries(latest)), now, deleteRetentionMs };
}

describe('filterBatch', () => {
  it('drops superseded records and keeps the rest at their offsets, with the header as it was', async () => {
    const input = await batch(
      [
        { key: 'a', value: 'a1', timestamp: T0 + 5 },
        { key: 'b', value: 'b1', timestamp: T0 + 1 },
        { key: 'a', value: 'a2', timestamp: T0 + 3 },
        { key: 'c', value: 'c1', timestamp: T0 + 2 },
      ],
      { producerId: 77, producerEpoch: 3, baseSequence: 40 },
    );
    const f = await filterBatch(input, ctx({ a: 102, b: 500 }));
    expect(f).toMatchObject({
      rewritten: true,
      removedRecords: 2,
      maxTimestamp: T0 + 3,
      tombstoneHorizon: -1,
    });
    const out = f.bytes!;
    const before = readBatchHeader(input);
    const after = readBatchHeader(out);
    expect(after).toMatchObject({
      baseOffset: 100,
      lastOffsetDelta: 3,
      recordsCount: 2,
      producerId: 77,
      producerEpoch: 3,
      baseSequence: 40,
      baseTimestamp: before.baseTimestamp,
      maxTimestamp: T0 + 3,
      attributes: before.attributes,
    });
    const decoded = await decodeRecordBatch(out);
    expect(decoded.records.map((r) => [r.offset, Buffer.from(r.value!).toString(), r.timestamp])).toEqual([
      [102, 'a2', T0 + 3],
      [103, 'c1', T0 + 2],
    ]);
    expect(checkStoredBatch(out)).toBeUndefined();
    expect(checkBatch(out)?.code).toBe('INVALID_RECORD');
    await expect(summarizeStoredRecords(out)).resolves.toMatchObject({
      maxTimestamp: T0 + 3,
      allKeysPresent: true,
    });
    await expect(summarizeRecords(out)).rejects.toMatchObject({ code: 'INVALID_RECORD' });
  });

  it('returns the batch itself when nothing goes, and nothing when everything goes', async () => {
    const input = await batch([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    const kept = await filterBatch(input, ctx({ a: 100, z: 9 }));
    expect(kept.rewritten).toBe(false);
    expect(kept.bytes).toBe(input);
    const dropped = await filterBatch(input, ctx({ a: 200, b: 200 }));
    expect(dropped).toMatchObject({ bytes: undefined, removedRecords: 2 });
  });

  it('drops records without a key', async () => {
    const input = await batch([
      { key: null, value: 'orphan' },
      { key: 'a', value: '1' },
    ]);
    const f = await filterBatch(input, ctx({}));
    expect(f.removedRecords).toBe(1);
    expect((await decodeRecordBatch(f.bytes!)).records.map((r) => r.offset)).toEqual([101]);
  });

  it('stamps a delete horizon on tombstones without changing any record timestamp, then drops them after it', async () => {
    const input = await batch([
      { key: 'gone', value: null, timestamp: T0 + 50 },
      { key: 'kept', value: 'v', timestamp: T0 - 20 },
      { key: 'old', value: 'x', timestamp: T0 + 10 },
    ]);
    const first = await filterBatch(input, ctx({ old: 900 }, T0 + 1000, 5000));
    expect(first.tombstoneHorizon).toBe(T0 + 6000);
    const stamped = first.bytes!;
    const h = readBatchHeader(stamped);
    expect(h.attributes & Attribute.deleteHorizon).toBe(Attribute.deleteHorizon);
    expect(h.baseTimestamp).toBe(T0 + 6000);
    const records = (await decodeRecordBatch(stamped)).records;
    expect(records.map((r) => [r.offset, r.timestamp, r.value === null])).toEqual([
      [100, T0 + 50, true],
      [101, T0 - 20, false],
    ]);
    expect(checkStoredBatch(stamped)).toBeUndefined();

    // Before the horizon: kept as is (already stamped, so not rewritten).
    const again = await filterBatch(stamped, ctx({}, T0 + 5999));
    expect(again).toMatchObject({ rewritten: false, tombstoneHorizon: T0 + 6000 });
    // At the horizon: the tombstone goes, the horizon flag and timestamps stay consistent.
    const expired = await filterBatch(stamped, ctx({}, T0 + 6000));
    expect(expired.removedRecords).toBe(1);
    expect(expired.tombstoneHorizon).toBe(-1);
    const left = (await decodeRecordBatch(expired.bytes!)).records;
    expect(left.map((r) => [r.offset, r.timestamp])).toEqual([[101, T0 - 20]]);
  });

  it('keeps the log-append time of LogAppendTime batches', async () => {
    const input = await batch([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    const attributes = readBatchHeader(input).attributes | Attribute.logAppendTime;
    input[BatchField.attributes + 1] = attributes & 0xff;
    new DataView(input.buffer, input.byteOffset).setBigInt64(BatchField.maxTimestamp, BigInt(T0 + 777));
    updateCrc(input, 0, input.length);
    const f = await filterBatch(input, ctx({ a: 500 }));
    expect(readBatchHeader(f.bytes!)).toMatchObject({
      maxTimestamp: T0 + 777,
      timestampType: 'LogAppendTime',
    });
    expect((await decodeRecordBatch(f.bytes!)).records[0]!.timestamp).toBe(T0 + 777);
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    'recompresses %s batches with their own codec',
    async (compression) => {
      const records = Array.from({ length: 30 }, (_, i) => ({
        key: `k${i % 5}`,
        value: `value-${i}`.repeat(5),
      }));
      const input = await batch(records, { compression });
      const latest: Record<string, number> = {};
      records.forEach((r, i) => {
        latest[r.key] = 100 + i;
      });
      const f = await filterBatch(input, ctx(latest));
      expect(f.removedRecords).toBe(25);
      expect(readBatchHeader(f.bytes!)).toMatchObject({ compression, recordsCount: 5, lastOffsetDelta: 29 });
      expect(checkStoredBatch(f.bytes!)).toBeUndefined();
      const decoded = await decodeRecordBatch(f.bytes!);
      expect(decoded.records.map((r) => r.offset)).toEqual([125, 126, 127, 128, 129]);
    },
  );
});

describe('mapBatchKeys', () => {
  it('records the newest offset of every key at or above the start', async () => {
    const input = await batch([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'a', value: '3' },
      { key: null, value: 'x' },
    ]);
    const latest = new Map<string, number>();
    expect(await mapBatchKeys(input, latest, 101)).toBe(4);
    expect([...latest]).toEqual([
      ['b', 101],
      ['a', 102],
    ]);
  });
});

describe('stored-batch checks', () => {
  it('reject damage and impossible shapes that compaction never produces', async () => {
    const input = await batch([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'c', value: '3' },
    ]);
    const cleaned = (await filterBatch(input, ctx({ b: 500 }))).bytes!;
    const flipped = new Uint8Array(cleaned);
    flipped[flipped.length - 2]! ^= 1;
    expect(checkStoredBatch(flipped)?.message).toMatch(/CRC/);

    // More records than the offset span can hold.
    const tooMany = new Uint8Array(input);
    writeInt32(tooMany, BatchField.lastOffsetDelta, 1);
    updateCrc(tooMany, 0, tooMany.length);
    expect(checkStoredBatch(tooMany)?.code).toBe('INVALID_RECORD');
    const none = new Uint8Array(cleaned);
    writeInt32(none, BatchField.recordsCount, 0);
    updateCrc(none, 0, none.length);
    expect(checkStoredBatch(none)?.code).toBe('INVALID_RECORD');

    // Records out of offset order: swap the two survivors' bytes.
    const cursor = await openRecordCursor(cleaned);
    const ranges: [number, number][] = [];
    while (cursor.next()) ranges.push([cursor.recordStart, cursor.recordEnd]);
    const section = cursor.section;
    const swapped = new Uint8Array(cleaned.length);
    swapped.set(cleaned.subarray(0, 61));
    let at = 61;
    for (const [s, e] of [...ranges].reverse()) {
      swapped.set(section.subarray(s, e), at);
      at += e - s;
    }
    updateCrc(swapped, 0, swapped.length);
    expect(checkStoredBatch(swapped)).toBeUndefined();
    await expect(summarizeStoredRecords(swapped)).rejects.toMatchObject({ code: 'INVALID_RECORD' });
  });
});

/**
 * The bare pipeline's wire format (bench/limits/): the least a log broker can do, with none of
 * Sluice's features — no envelope, no topics, no offsets assigned, no validation, one file.
 *
 * Every WebSocket binary message is a 5-byte header then a body:
 *   0 op u8     1 = append (body: one RecordBatch v2), 2 = read (body: u32 LE max bytes)
 *   1 corr u32  LE, echoed in the answer
 * Answers carry the same header; an append's body is empty, a read's is the next whole batches of
 * the file (empty at the end of the file).
 */
export const OP_APPEND = 1;
export const OP_READ = 2;
export const HEADER = 5;

/** Worker-bound items: a batch to append, or a read of the next `max` bytes. */
export type BareItem =
  | { op: typeof OP_APPEND; corr: number; buf: Uint8Array }
  | { op: typeof OP_READ; corr: number; max: number };

/** Main-bound: the correlation ids of the appends done, and the read answers (header room in front). */
export interface BareReplies {
  appended: Int32Array;
  reads: { corr: number; buf: Uint8Array }[];
}

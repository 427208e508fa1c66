/**
 * The typed contract between the main thread (router) and the worker threads that own partitions.
 *
 * Transport: each worker runs one long-lived piscina task (partition-worker.ts) that receives a
 * MessagePort; all traffic goes over that port, batched in both directions:
 *   main → worker   `ToWorker`   { requests: WorkerRequest[] }   one postMessage per event-loop turn
 *   worker → main   `FromWorker` { replies: WorkerReply[], events: WorkerEvent[] }
 * Record bytes (append batches, read results) travel as typed arrays whose ArrayBuffers are in the
 * transfer list: moved, never copied element by element. A buffer is only transferred when the view
 * covers its whole ArrayBuffer; the sender copies otherwise.
 *
 * Ownership: a partition (key `<topic>-<partition>`, also its directory name) is opened on exactly one
 * worker, chosen by src/router/shard-table.ts; only that worker touches its files. Requests for one
 * partition are processed in arrival order (the partition's mailbox).
 *
 * Errors cross as `{ code, message }` (ErrorData) and are rebuilt with SluiceError.from.
 */
import type { ErrorData } from '../src/errors.ts';
import type { TaskLatencyCounts } from '../src/metrics/task-latency.ts';
import type { LogStats, OffsetAnswer, OffsetQuery, OpenReport } from '../src/storage/log.ts';
import type { LogConfig } from '../src/storage/log-config.ts';

/** What the host task receives when piscina starts it on a worker thread. */
export interface HostTask {
  port: import('node:worker_threads').MessagePort;
  /** Index of this shard (for logs and metrics). */
  shard: number;
  /** How often periodic duties run (flush.ms, producer expiry), ms. */
  tickIntervalMs: number;
  /** How often retention is checked, ms (log.retention.check.interval.ms). */
  retentionCheckIntervalMs: number;
}

export interface OpenRequest {
  op: 'open';
  id: number;
  key: string;
  dir: string;
  config: LogConfig;
}
export interface CloseRequest {
  op: 'close';
  id: number;
  key: string;
}
export interface DeleteRequest {
  op: 'delete';
  id: number;
  key: string;
  /** Deleted even when the partition is not open on this worker. */
  dir: string;
}
export interface ReconfigureRequest {
  op: 'reconfigure';
  id: number;
  key: string;
  config: LogConfig;
}
export interface AppendRequest {
  op: 'append';
  id: number;
  key: string;
  /** Exactly one RecordBatch v2; the worker rewrites its baseOffset and leader epoch in place. */
  batch: Uint8Array;
}
export interface ReadRequest {
  op: 'read';
  id: number;
  key: string;
  offset: number;
  maxBytes: number;
}
export interface ListOffsetRequest {
  op: 'listOffset';
  id: number;
  key: string;
  query: OffsetQuery;
}
export interface StatsRequest {
  op: 'stats';
  id: number;
  key: string;
}
export interface DeleteRecordsRequest {
  op: 'deleteRecords';
  id: number;
  key: string;
  offset: number;
}
export interface TruncateRequest {
  op: 'truncate';
  id: number;
  key: string;
  offset: number;
}
export interface RetentionRequest {
  op: 'retention';
  id: number;
  key: string;
}
export interface ShutdownRequest {
  op: 'shutdown';
  id: number;
}

export type WorkerRequest =
  | OpenRequest
  | CloseRequest
  | DeleteRequest
  | ReconfigureRequest
  | AppendRequest
  | ReadRequest
  | ListOffsetRequest
  | StatsRequest
  | DeleteRecordsRequest
  | TruncateRequest
  | RetentionRequest
  | ShutdownRequest;

export interface AppendReply {
  baseOffset: number;
  lastOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  recordCount: number;
  duplicate: boolean;
}

export interface ReadReply {
  /** Whole stored batches, exactly as on disk; absent when there is nothing at the offset yet. */
  bytes?: Uint8Array;
  highWatermark: number;
  logStartOffset: number;
}

export interface OpenReply {
  stats: LogStats;
  report: OpenReport;
}

export interface RetentionReply {
  deletedSegments: number;
  deletedBytes: number;
  logStartOffset: number;
}

/** The result type of each operation. */
export interface OpResults {
  open: OpenReply;
  close: null;
  delete: null;
  reconfigure: null;
  append: AppendReply;
  read: ReadReply;
  listOffset: OffsetAnswer;
  stats: LogStats;
  deleteRecords: { logStartOffset: number };
  truncate: { logEndOffset: number };
  retention: RetentionReply;
  shutdown: null;
}

export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ErrorData };

/** Per-partition counters a worker keeps and reports (deltas since the last report). */
export interface PartitionCounters {
  appendedBatches: number;
  appendedRecords: number;
  appendedBytes: number;
  readBytes: number;
  duplicateBatches: number;
  rejectedBatches: number;
}

/** One partition's log compaction since the last report (see src/storage/log-cleaner.ts). */
export interface CleanerReport {
  key: string;
  /** Bytes of closed segments read and rewritten. */
  cleanedBytes: number;
  /** Records dropped: superseded by a newer record with the same key, expired tombstones, keyless. */
  removedRecords: number;
  /** Bytes the swapped-in segments saved over the ones they replaced. */
  reclaimedBytes: number;
  /** Passes that finished. */
  passes: number;
  /** Passes given up (segments changed under them, damaged input, I/O errors). */
  abandoned: number;
}

export type WorkerEvent =
  /** A partition's offsets moved (appends, retention, truncation): wakes parked fetches. */
  | { type: 'offsets'; key: string; highWatermark: number; logStartOffset: number }
  /** Periodic report: partition stats and counter deltas, and the worker's own load. */
  | {
      type: 'report';
      shard: number;
      partitions: { key: string; stats: LogStats; counters: PartitionCounters }[];
      retention: { key: string; deletedSegments: number; deletedBytes: number }[];
      busyMs: number;
      elapsedMs: number;
      processedRequests: number;
      queuedRequests: number;
      fsyncs: number[];
      /** Partitions the log cleaner worked on since the last report (absent when none). */
      cleaner?: CleanerReport[];
      /**
       * Request latency on this worker since the last report, per op: arrival → answer, counted
       * into src/metrics/definitions.ts TASK_SECONDS_BUCKETS (absent when nothing was answered).
       */
      tasks?: TaskLatencyCounts[];
    };

export interface ToWorker {
  requests: WorkerRequest[];
}

export interface FromWorker {
  replies: WorkerReply[];
  events: WorkerEvent[];
  /**
   * Successful append replies, packed (the hot path: structured clone of one typed array instead
   * of an object per batch): ACK_FIELDS numbers per append, see `packAck` / `unpackAck`.
   */
  acks?: Float64Array;
}

/** Numbers per packed append acknowledgement: id, baseOffset, lastOffset, logAppendTime, logStartOffset, recordCount, duplicate. */
export const ACK_FIELDS = 7;

export function packAck(into: Float64Array, at: number, id: number, r: AppendReply): void {
  into[at] = id;
  into[at + 1] = r.baseOffset;
  into[at + 2] = r.lastOffset;
  into[at + 3] = r.logAppendTime;
  into[at + 4] = r.logStartOffset;
  into[at + 5] = r.recordCount;
  into[at + 6] = r.duplicate ? 1 : 0;
}

export function unpackAck(from: Float64Array, at: number): AppendReply {
  return {
    baseOffset: from[at + 1]!,
    lastOffset: from[at + 2]!,
    logAppendTime: from[at + 3]!,
    logStartOffset: from[at + 4]!,
    recordCount: from[at + 5]!,
    duplicate: from[at + 6] === 1,
  };
}

/** The first message a host posts, so the main thread knows the worker is serving. */
export interface HostReady {
  ready: true;
  threadId: number;
}

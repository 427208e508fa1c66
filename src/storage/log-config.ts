/**
 * Per-partition log settings, the storage side of a topic's configuration (Kafka's names in the
 * comments; the topic registry maps `key=value` topic configs onto this shape).
 */

/** Kafka's Long.MAX_VALUE defaults ("never") are kept as the largest safe integer. */
export const NEVER = Number.MAX_SAFE_INTEGER;

export interface LogConfig {
  /** segment.bytes: roll the active segment before it would exceed this size. */
  segmentBytes: number;
  /** segment.ms: roll the active segment once its first batch is this old. */
  segmentMs: number;
  /** segment.index.bytes: maximum size of one index file (a full index rolls the segment). */
  segmentIndexBytes: number;
  /** index.interval.bytes: log bytes between two sparse index entries. */
  indexIntervalBytes: number;
  /** retention.ms: delete segments whose newest record is older than this (-1: keep forever). */
  retentionMs: number;
  /** retention.bytes: delete the oldest segments while the log is larger than this (-1: no limit). */
  retentionBytes: number;
  /** max.message.bytes: the largest record batch accepted. */
  maxMessageBytes: number;
  /** message.timestamp.type: keep the producer's timestamps, or stamp batches with the broker clock. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** flush.messages: fsync once this many records are unflushed; the appends that reach it wait for the fsync. */
  flushMessages: number;
  /** flush.ms: fsync when unflushed data is older than this. */
  flushMs: number;
  /** cleanup.policy: `delete` (retention) and/or `compact`. */
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  /** producer.id.expiration.ms: forget idempotent producers idle for this long. */
  producerIdExpirationMs: number;
  /** min.cleanable.dirty.ratio: clean once dirty bytes / (clean + dirty bytes) reaches this (0–1). */
  minCleanableDirtyRatio: number;
  /** delete.retention.ms: how long a tombstone survives after the cleaner first processed it. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: a record stays uncompacted at least this long (by its segment's newest timestamp). */
  minCompactionLagMs: number;
  /**
   * log.cleaner.enable and log.cleaner.backoff.ms: broker-wide, but carried here because a worker
   * learns settings only through each partition's open/reconfigure.
   */
  cleanerEnable: boolean;
  cleanerBackoffMs: number;
}

export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1073741824,
  segmentMs: 604800000,
  segmentIndexBytes: 10485760,
  indexIntervalBytes: 4096,
  retentionMs: 604800000,
  retentionBytes: -1,
  maxMessageBytes: 1048588,
  messageTimestampType: 'CreateTime',
  flushMessages: NEVER,
  flushMs: NEVER,
  cleanupPolicy: 'delete',
  producerIdExpirationMs: 86400000,
  minCleanableDirtyRatio: 0.5,
  deleteRetentionMs: 86400000,
  minCompactionLagMs: 0,
  cleanerEnable: true,
  cleanerBackoffMs: 15000,
};

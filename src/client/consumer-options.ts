/**
 * Consumer settings and their defaults (docs/client.md has them as tables). Group defaults are
 * librdkafka's, so that Sluice consumers behave like the Kafka consumers they may share a group with.
 */
import type { Assignor } from './assignor.ts';
import type { AssignorName } from './built-in-assignors.ts';
import type { ConnectionOptions } from './connection.ts';
import type { ConsumerBatch } from './consumer-batch.ts';
import type { OffsetResetPolicy } from './fetcher.ts';
import type { ClientTransport } from './transport.ts';

/** Consumer settings; every field is optional. */
export interface ConsumerOptions extends ConnectionOptions {
  /** Use this connection (shared, or a test transport) instead of opening one. */
  connection?: ClientTransport;
  /** Where to start without a valid position (or committed offset): 'earliest', 'latest' (default, as Kafka) or 'none' (an error). */
  autoOffsetReset?: OffsetResetPolicy;
  /** Longest time the broker holds a fetch waiting for data (default 500 ms). */
  maxWaitMs?: number;
  /** Bytes a fetch waits for before answering (default 1). */
  minBytes?: number;
  /** Most bytes per fetch answer (default 50 MiB). */
  maxBytes?: number;
  /** Most bytes per partition per fetch, and the per-partition read-ahead (default 1 MiB). */
  maxPartitionBytes?: number;
  /** Fetch requests in flight, each for a share of the partitions (default 4). */
  maxFetchesInFlight?: number;
  /** Bytes fetched but not yet handed out, in total, before fetching pauses (default 64 MiB). */
  maxBufferedBytes?: number;
  /** Check every batch's CRC-32C (default true). */
  checkCrcs?: boolean;
  /** Backoff after a failed fetch: first delay (default 100 ms), doubling up to retryBackoffMaxMs (default 1 000 ms). */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;

  /** The consumer group; required by `subscribe` and `commit`. */
  groupId?: string;
  /** Static membership (KIP-345): the same id across restarts keeps the member's partitions without a rebalance. */
  groupInstanceId?: string;
  /** The coordinator expels a member that sends no heartbeat for this long (default 45 000 ms). */
  sessionTimeoutMs?: number;
  /** How long a rebalance waits for members to rejoin, including revoke callbacks and handlers (default 300 000 ms). */
  rebalanceTimeoutMs?: number;
  /** Time between heartbeats (default 3 000 ms; keep it well under sessionTimeoutMs). */
  heartbeatIntervalMs?: number;
  /** Assignors offered to the group, by preference (default ['range', 'roundrobin'], as librdkafka). */
  assignors?: readonly (AssignorName | Assignor)[];
  /** Commit positions automatically (default true): every autoCommitIntervalMs, before a rebalance and on close. */
  autoCommit?: boolean;
  /** Interval of automatic commits (default 5 000 ms). */
  autoCommitIntervalMs?: number;
  /** How often topic metadata is checked for new pattern matches and partition counts (default 300 000 ms). */
  metadataMaxAgeMs?: number;
}

/** Defaults of ConsumerOptions. */
export const CONSUMER_DEFAULTS = {
  autoOffsetReset: 'latest',
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 50 * 1024 * 1024,
  maxPartitionBytes: 1024 * 1024,
  maxFetchesInFlight: 4,
  maxBufferedBytes: 64 * 1024 * 1024,
  checkCrcs: true,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1_000,
  sessionTimeoutMs: 45_000,
  rebalanceTimeoutMs: 300_000,
  heartbeatIntervalMs: 3_000,
  assignors: ['range', 'roundrobin'],
  autoCommit: true,
  autoCommitIntervalMs: 5_000,
  metadataMaxAgeMs: 300_000,
} as const;

/** Handlers for `run`. */
export interface RunOptions {
  /** Called for each batch, one at a time; the partition's position advances when it resolves. */
  eachBatch(batch: ConsumerBatch): Promise<void> | void;
}

/**
 * The producer's public types: the record it takes, what it answers, and its options with their
 * defaults (docs/client.md has them as a table).
 */
import type { CompressionName } from '../protocol/kafka/record-batch.ts';
import type { HeaderValue } from '../protocol/kafka/record-batch-builder.ts';
import type { Acks } from '../protocol/wire/ops.ts';
import type { ConnectionOptions } from './connection.ts';
import type { ClientTransport } from './transport.ts';

/** A record to produce. Strings are sent as UTF-8. */
export interface ProducerRecordInput {
  topic: string;
  key?: Uint8Array | string | null;
  /** null is a tombstone (deletes the key in a compacted topic). */
  value: Uint8Array | string | null;
  headers?: readonly { key: string; value: HeaderValue }[] | Readonly<Record<string, HeaderValue>>;
  /** Send to this partition instead of the partitioner's choice. */
  partition?: number;
  /** Milliseconds since the epoch (default: when the record is handed to the producer). */
  timestamp?: number;
}

/** Where a record was stored. `offset` is -1 with acks 0. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp, or the broker's append time on LogAppendTime topics. */
  timestamp: number;
}

/** Producer settings; every field is optional. */
export interface ProducerOptions extends ConnectionOptions {
  /** Use this connection (shared with other clients, or a test transport) instead of opening one. */
  connection?: ClientTransport;
  /** -1: stored (default); 1: same on a single broker; 0: no answer, offsets unknown. */
  acks?: Acks;
  /** Codec of every batch (default 'none'; the browser build supports 'none' and 'gzip'). */
  compression?: CompressionName;
  /** A batch is sent once it holds this many bytes (default 65 536). */
  batchBytes?: number;
  /** Longest wait for a batch to fill (default 5 ms; 0: send as soon as the window has room). */
  lingerMs?: number;
  /** Bytes buffered before sends wait for room (default 32 MiB). */
  bufferBytes?: number;
  /** Longest wait for buffer room or metadata before BUFFER_FULL / the metadata error (default 60 000 ms). */
  maxBlockMs?: number;
  /** Exactly-once per partition: producer id and sequence numbers (default false; needs acks -1). */
  idempotent?: boolean;
  /** Resends of a batch after retriable errors (default: unbounded, within deliveryTimeoutMs). */
  retries?: number;
  /** First retry backoff (default 100 ms), doubling up to retryBackoffMaxMs (default 1 000 ms). */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** A batch not stored this long after it was opened fails with its last error (default 120 000 ms). */
  deliveryTimeoutMs?: number;
  /** Produce requests in flight (default 64; the connection's own limit applies too). */
  maxInFlightRequests?: number;
  /** Batch bytes in flight (default 4 MiB). */
  maxInFlightBytes?: number;
  /** Largest produce request (default 1 MiB; never above the broker's maxFrameBytes). */
  maxRequestBytes?: number;
  /** How long the broker may take to store a batch (the request's timeoutMs, default 30 000 ms). */
  produceTimeoutMs?: number;
  /** Reload topic metadata after this age (default 300 000 ms). */
  metadataMaxAgeMs?: number;
  /** Let the broker create topics on first use (default true; the broker must allow it too). */
  allowAutoTopicCreation?: boolean;
}

/** Defaults of ProducerOptions. */
export const PRODUCER_DEFAULTS = {
  acks: -1,
  compression: 'none',
  batchBytes: 64 * 1024,
  lingerMs: 5,
  bufferBytes: 32 * 1024 * 1024,
  maxBlockMs: 60_000,
  idempotent: false,
  retries: Number.MAX_SAFE_INTEGER,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1_000,
  deliveryTimeoutMs: 120_000,
  maxInFlightRequests: 64,
  maxInFlightBytes: 4 * 1024 * 1024,
  maxRequestBytes: 1024 * 1024,
  produceTimeoutMs: 30_000,
} as const;

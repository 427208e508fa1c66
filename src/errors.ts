/**
 * The error registry: every error Sluice can return, on any protocol, is listed here once.
 *
 * An error is data with a stable `code` (Kafka's error name wherever Kafka has one), a default message,
 * whether a client may retry, its Kafka numeric error code, and the WebSocket close code used when the
 * error ends a connection. Actors return expected failures as values (`{ code, message }`); only the
 * protocol edge turns them into wire errors. Errors cross threads as `{ code, message }` (structured
 * clone drops custom properties) and are rebuilt with `SluiceError.from`. Callers match on `code`.
 *
 * docs/errors.md lists every code; test/unit/errors.test.ts keeps the two in step.
 */

export interface ErrorSpec {
  /** Human-readable default message. */
  readonly message: string;
  /** True when the same request may succeed if sent again later. */
  readonly retriable: boolean;
  /** Kafka wire error code (-1 = UNKNOWN_SERVER_ERROR for Sluice-only errors). */
  readonly kafkaCode: number;
  /** WebSocket close code when this error closes a connection (1002 protocol, 1008 policy, 1009 too big, 1011 internal). */
  readonly wsCloseCode: number;
}

export const ERRORS = {
  // --- Kafka's errors (name = Kafka's, kafkaCode = Kafka's numeric code) ---
  UNKNOWN_SERVER_ERROR: {
    message: 'Unexpected server error',
    retriable: false,
    kafkaCode: -1,
    wsCloseCode: 1011,
  },
  OFFSET_OUT_OF_RANGE: {
    message: 'The requested offset is outside the range of offsets kept for this partition',
    retriable: false,
    kafkaCode: 1,
    wsCloseCode: 1008,
  },
  CORRUPT_MESSAGE: {
    message: 'The record batch failed its CRC check or is otherwise corrupt',
    retriable: true,
    kafkaCode: 2,
    wsCloseCode: 1008,
  },
  UNKNOWN_TOPIC_OR_PARTITION: {
    message: 'This topic or partition does not exist',
    retriable: true,
    kafkaCode: 3,
    wsCloseCode: 1008,
  },
  INVALID_FETCH_SIZE: {
    message: 'The requested fetch size is invalid',
    retriable: false,
    kafkaCode: 4,
    wsCloseCode: 1008,
  },
  LEADER_NOT_AVAILABLE: {
    message: 'The partition has no leader yet (the topic is being created)',
    retriable: true,
    kafkaCode: 5,
    wsCloseCode: 1008,
  },
  NOT_LEADER_OR_FOLLOWER: {
    message: 'This broker is not the leader for the partition',
    retriable: true,
    kafkaCode: 6,
    wsCloseCode: 1008,
  },
  REQUEST_TIMED_OUT: { message: 'The request timed out', retriable: true, kafkaCode: 7, wsCloseCode: 1008 },
  MESSAGE_TOO_LARGE: {
    message: 'The record batch is larger than the maximum the topic accepts (max.message.bytes)',
    retriable: false,
    kafkaCode: 10,
    wsCloseCode: 1009,
  },
  OFFSET_METADATA_TOO_LARGE: {
    message: 'The metadata of the committed offset is larger than offset.metadata.max.bytes',
    retriable: false,
    kafkaCode: 12,
    wsCloseCode: 1008,
  },
  COORDINATOR_LOAD_IN_PROGRESS: {
    message: 'The coordinator is loading group metadata',
    retriable: true,
    kafkaCode: 14,
    wsCloseCode: 1008,
  },
  COORDINATOR_NOT_AVAILABLE: {
    message: 'The coordinator is not available',
    retriable: true,
    kafkaCode: 15,
    wsCloseCode: 1008,
  },
  NOT_COORDINATOR: {
    message: 'This is not the coordinator of the group',
    retriable: true,
    kafkaCode: 16,
    wsCloseCode: 1008,
  },
  INVALID_TOPIC_EXCEPTION: {
    message: 'The topic name is invalid (allowed: [a-zA-Z0-9._-], 1-249 characters, not "." or "..")',
    retriable: false,
    kafkaCode: 17,
    wsCloseCode: 1008,
  },
  RECORD_LIST_TOO_LARGE: {
    message: 'The request carries more record bytes than the segment size allows',
    retriable: false,
    kafkaCode: 18,
    wsCloseCode: 1008,
  },
  INVALID_REQUIRED_ACKS: {
    message: 'acks must be -1 (all), 0 or 1',
    retriable: false,
    kafkaCode: 21,
    wsCloseCode: 1008,
  },
  ILLEGAL_GENERATION: {
    message: 'The generation id is not the current generation of the group',
    retriable: false,
    kafkaCode: 22,
    wsCloseCode: 1008,
  },
  INCONSISTENT_GROUP_PROTOCOL: {
    message: 'The member protocol type or names are not compatible with the group',
    retriable: false,
    kafkaCode: 23,
    wsCloseCode: 1008,
  },
  INVALID_GROUP_ID: {
    message: 'The group id is invalid',
    retriable: false,
    kafkaCode: 24,
    wsCloseCode: 1008,
  },
  UNKNOWN_MEMBER_ID: {
    message: 'The member id is not in the group',
    retriable: false,
    kafkaCode: 25,
    wsCloseCode: 1008,
  },
  INVALID_SESSION_TIMEOUT: {
    message: 'The session timeout is outside the allowed range',
    retriable: false,
    kafkaCode: 26,
    wsCloseCode: 1008,
  },
  REBALANCE_IN_PROGRESS: {
    message: 'The group is rebalancing; rejoin',
    retriable: false,
    kafkaCode: 27,
    wsCloseCode: 1008,
  },
  INVALID_COMMIT_OFFSET_SIZE: {
    message: 'The committed offset metadata is too large',
    retriable: false,
    kafkaCode: 28,
    wsCloseCode: 1008,
  },
  INVALID_TIMESTAMP: {
    message: 'A record timestamp is out of range',
    retriable: false,
    kafkaCode: 32,
    wsCloseCode: 1008,
  },
  UNSUPPORTED_VERSION: {
    message: 'The version of this request is not supported',
    retriable: false,
    kafkaCode: 35,
    wsCloseCode: 1002,
  },
  TOPIC_ALREADY_EXISTS: {
    message: 'The topic already exists',
    retriable: false,
    kafkaCode: 36,
    wsCloseCode: 1008,
  },
  INVALID_PARTITIONS: {
    message: 'The number of partitions is invalid',
    retriable: false,
    kafkaCode: 37,
    wsCloseCode: 1008,
  },
  INVALID_REPLICATION_FACTOR: {
    message: 'The replication factor is invalid (this broker keeps one replica)',
    retriable: false,
    kafkaCode: 38,
    wsCloseCode: 1008,
  },
  INVALID_CONFIG: {
    message: 'The configuration is invalid',
    retriable: false,
    kafkaCode: 40,
    wsCloseCode: 1008,
  },
  INVALID_REQUEST: {
    message: 'The request is malformed',
    retriable: false,
    kafkaCode: 42,
    wsCloseCode: 1002,
  },
  OUT_OF_ORDER_SEQUENCE_NUMBER: {
    message: 'The producer sequence number is out of order',
    retriable: false,
    kafkaCode: 45,
    wsCloseCode: 1008,
  },
  DUPLICATE_SEQUENCE_NUMBER: {
    message: 'The producer sequence number is a duplicate',
    retriable: false,
    kafkaCode: 46,
    wsCloseCode: 1008,
  },
  INVALID_PRODUCER_EPOCH: {
    message: 'The producer epoch is older than the current one (a newer producer fenced it)',
    retriable: false,
    kafkaCode: 47,
    wsCloseCode: 1008,
  },
  UNKNOWN_PRODUCER_ID: {
    message: 'The broker has no state for this producer id',
    retriable: false,
    kafkaCode: 59,
    wsCloseCode: 1008,
  },
  KAFKA_STORAGE_ERROR: {
    message: 'The broker could not read or write the log',
    retriable: true,
    kafkaCode: 56,
    wsCloseCode: 1011,
  },
  NON_EMPTY_GROUP: { message: 'The group is not empty', retriable: false, kafkaCode: 68, wsCloseCode: 1008 },
  GROUP_ID_NOT_FOUND: {
    message: 'The group does not exist',
    retriable: false,
    kafkaCode: 69,
    wsCloseCode: 1008,
  },
  FENCED_LEADER_EPOCH: {
    message: 'The leader epoch in the request is older than the broker’s',
    retriable: true,
    kafkaCode: 74,
    wsCloseCode: 1008,
  },
  UNKNOWN_LEADER_EPOCH: {
    message: 'The leader epoch in the request is newer than the broker’s',
    retriable: true,
    kafkaCode: 75,
    wsCloseCode: 1008,
  },
  UNSUPPORTED_COMPRESSION_TYPE: {
    message: 'The compression type is not supported by this request version',
    retriable: false,
    kafkaCode: 76,
    wsCloseCode: 1008,
  },
  MEMBER_ID_REQUIRED: {
    message: 'The group requires a member id; join again with the one given',
    retriable: false,
    kafkaCode: 79,
    wsCloseCode: 1008,
  },
  FENCED_INSTANCE_ID: {
    message: 'Another member joined with the same group.instance.id',
    retriable: false,
    kafkaCode: 82,
    wsCloseCode: 1008,
  },
  INVALID_RECORD: {
    message: 'A record in the batch failed validation',
    retriable: false,
    kafkaCode: 87,
    wsCloseCode: 1008,
  },
  UNKNOWN_TOPIC_ID: {
    message: 'This topic id does not exist',
    retriable: true,
    kafkaCode: 100,
    wsCloseCode: 1008,
  },

  // --- Sluice's own errors (no Kafka equivalent; kafkaCode -1) ---
  BROKER_SHUTTING_DOWN: {
    message: 'The broker is shutting down',
    retriable: true,
    kafkaCode: 6, // NOT_LEADER_OR_FOLLOWER: Kafka clients retry after refreshing metadata
    wsCloseCode: 1001,
  },
  INVALID_FRAME: {
    message: 'The frame could not be decoded as a request envelope',
    retriable: false,
    kafkaCode: 42,
    wsCloseCode: 1002,
  },
  FRAME_TOO_LARGE: {
    message: 'The frame is larger than the configured maximum',
    retriable: false,
    kafkaCode: 42,
    wsCloseCode: 1009,
  },
  TOO_MANY_REQUESTS: {
    message: 'Too many requests are in flight on this connection',
    retriable: true,
    kafkaCode: -1,
    wsCloseCode: 1008,
  },
  UNKNOWN_OPERATION: {
    message: 'The operation is not known',
    retriable: false,
    kafkaCode: 42,
    wsCloseCode: 1002,
  },
  WORKER_FAILED: {
    message: 'The worker thread that owns the partition failed; it is being restarted',
    retriable: true,
    kafkaCode: 56,
    wsCloseCode: 1011,
  },
  PARTITION_CLOSED: {
    message: 'The partition is closed (deleted or shutting down)',
    retriable: true,
    kafkaCode: 3,
    wsCloseCode: 1008,
  },
  CONNECTION_CLOSED: {
    message: 'The connection closed before the response arrived',
    retriable: true,
    kafkaCode: -1,
    wsCloseCode: 1006,
  },
  CLIENT_TIMEOUT: {
    message: 'No response arrived within the request timeout',
    retriable: true,
    kafkaCode: 7,
    wsCloseCode: 1008,
  },
  BUFFER_FULL: {
    message: 'The producer buffer is full',
    retriable: true,
    kafkaCode: -1,
    wsCloseCode: 1008,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** What crosses threads and the wire: structured-clone and CBOR friendly. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** The one Error class Sluice throws for expected failures. Match on `code`, never on `message`. */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly kafkaCode: number;

  constructor(code: ErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'SluiceError';
    this.code = code;
    this.retriable = ERRORS[code].retriable;
    this.kafkaCode = ERRORS[code].kafkaCode;
  }

  toData(): ErrorData {
    return { code: this.code, message: this.message };
  }

  /** Rebuild an error that crossed a thread or the wire; unknown codes become UNKNOWN_SERVER_ERROR. */
  static from(data: { code?: unknown; message?: unknown }): SluiceError {
    const code = isErrorCode(data.code) ? data.code : 'UNKNOWN_SERVER_ERROR';
    const message = typeof data.message === 'string' ? data.message : undefined;
    return new SluiceError(code, message);
  }
}

export function errorData(code: ErrorCode, message?: string): ErrorData {
  return { code, message: message ?? ERRORS[code].message };
}

/** Turn anything thrown into ErrorData; non-Sluice errors become UNKNOWN_SERVER_ERROR with their message. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof SluiceError) return err.toData();
  if (err && typeof err === 'object' && isErrorCode((err as { code?: unknown }).code)) {
    const e = err as { code: ErrorCode; message?: unknown };
    return errorData(e.code, typeof e.message === 'string' ? e.message : undefined);
  }
  const message = err instanceof Error ? err.message : String(err);
  return errorData('UNKNOWN_SERVER_ERROR', message);
}

const byKafkaCode = new Map<number, ErrorCode>();
for (const [code, spec] of Object.entries(ERRORS) as [ErrorCode, ErrorSpec][]) {
  // Kafka's own names win over Sluice aliases that reuse a Kafka code.
  if (!byKafkaCode.has(spec.kafkaCode)) byKafkaCode.set(spec.kafkaCode, code);
}

/** The error code for a Kafka numeric error code (0 = no error → undefined). */
export function errorCodeFromKafka(kafkaCode: number): ErrorCode | undefined {
  if (kafkaCode === 0) return undefined;
  return byKafkaCode.get(kafkaCode) ?? 'UNKNOWN_SERVER_ERROR';
}

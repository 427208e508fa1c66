/**
 * Per-topic configuration: Kafka's topic config names, their broker-level defaults, validation, and
 * the mapping onto the storage engine's LogConfig.
 *
 * A topic stores only its overrides (`key → string`, as Kafka does); the effective value of a key is
 * the override, else the broker setting it defaults to, else Kafka's default.
 */
import type { BrokerConfig, SettingKey } from '../config.ts';
import { SluiceError } from '../errors.ts';
import type { ConfigEntry } from '../protocol/wire/ops.ts';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../storage/log-config.ts';

interface TopicConfigSpec {
  kind: 'int' | 'double' | 'enum';
  /** The broker setting that provides the default, if any. */
  brokerKey?: SettingKey;
  /** Kafka's default when no broker setting applies. */
  default?: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** Accepted for compatibility; only this value is supported. */
  only?: string;
  doc: string;
}

const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const TOPIC_CONFIGS = {
  'cleanup.policy': {
    kind: 'enum',
    brokerKey: 'log.cleanup.policy',
    // A comma-separated list in Kafka: `delete,compact` is accepted and stored as `compact,delete`.
    choices: ['delete', 'compact', 'compact,delete'],
    doc: 'delete: retention by time and size; compact: keep the newest record per key (log compaction); compact,delete: both.',
  },
  'min.cleanable.dirty.ratio': {
    kind: 'double',
    brokerKey: 'log.cleaner.min.cleanable.ratio',
    min: 0,
    max: 1,
    doc: 'Compact once the uncleaned part of the log is at least this fraction of the cleanable log.',
  },
  'delete.retention.ms': {
    kind: 'int',
    brokerKey: 'log.cleaner.delete.retention.ms',
    min: 0,
    max: LONG_MAX,
    doc: 'How long a tombstone (null value) stays after compaction first sees it, so consumers can read the delete.',
  },
  'min.compaction.lag.ms': {
    kind: 'int',
    brokerKey: 'log.cleaner.min.compaction.lag.ms',
    min: 0,
    max: LONG_MAX,
    doc: 'A record stays uncompacted at least this long (by the newest timestamp of its segment).',
  },
  'retention.ms': {
    kind: 'int',
    brokerKey: 'log.retention.ms',
    min: -1,
    max: LONG_MAX,
    doc: 'Delete segments older than this (-1: forever).',
  },
  'retention.bytes': {
    kind: 'int',
    brokerKey: 'log.retention.bytes',
    min: -1,
    max: LONG_MAX,
    doc: 'Delete oldest segments above this size per partition (-1: no limit).',
  },
  'segment.bytes': {
    kind: 'int',
    brokerKey: 'log.segment.bytes',
    min: 14,
    max: 2147483647,
    doc: 'Segment file size before a roll.',
  },
  'segment.ms': {
    kind: 'int',
    brokerKey: 'log.roll.ms',
    min: 1,
    max: LONG_MAX,
    doc: 'Segment age before a roll.',
  },
  'segment.index.bytes': {
    kind: 'int',
    default: '10485760',
    min: 4,
    max: 2147483647,
    doc: 'Maximum size of a segment index file.',
  },
  'index.interval.bytes': {
    kind: 'int',
    brokerKey: 'log.index.interval.bytes',
    min: 0,
    max: 2147483647,
    doc: 'Log bytes between index entries.',
  },
  'max.message.bytes': {
    kind: 'int',
    brokerKey: 'message.max.bytes',
    min: 0,
    max: 2147483647,
    doc: 'Largest record batch accepted.',
  },
  'message.timestamp.type': {
    kind: 'enum',
    brokerKey: 'log.message.timestamp.type',
    choices: ['CreateTime', 'LogAppendTime'],
    doc: 'Keep producer timestamps, or stamp batches with the broker clock.',
  },
  'flush.messages': {
    kind: 'int',
    brokerKey: 'log.flush.interval.messages',
    min: 1,
    max: LONG_MAX,
    doc: 'fsync once this many records are unflushed; 1 = fsync before every acknowledgement.',
  },
  'flush.ms': {
    kind: 'int',
    brokerKey: 'log.flush.interval.ms',
    min: 0,
    max: LONG_MAX,
    doc: 'fsync when unflushed data is this old.',
  },
  'compression.type': {
    kind: 'enum',
    default: 'producer',
    choices: ['producer'],
    only: 'producer',
    doc: 'Batches are stored as the producer compressed them (no recompression).',
  },
  'min.insync.replicas': { kind: 'int', default: '1', min: 1, max: 1, doc: 'Single broker: always 1.' },
} as const satisfies Record<string, TopicConfigSpec>;

export type TopicConfigKey = keyof typeof TOPIC_CONFIGS;

export function isTopicConfigKey(key: string): key is TopicConfigKey {
  return Object.hasOwn(TOPIC_CONFIGS, key);
}

/** Check one override; returns its normalised text or throws INVALID_CONFIG. */
export function validateTopicConfig(key: string, value: string): string {
  if (!isTopicConfigKey(key)) throw new SluiceError('INVALID_CONFIG', `unknown topic config "${key}"`);
  const spec: TopicConfigSpec = TOPIC_CONFIGS[key];
  const text = value.trim();
  if (spec.kind === 'int') {
    const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (
      !Number.isSafeInteger(n) ||
      (spec.min !== undefined && n < spec.min) ||
      (spec.max !== undefined && n > spec.max)
    ) {
      throw new SluiceError(
        'INVALID_CONFIG',
        `${key} must be an integer in [${spec.min}, ${spec.max}], got "${value}"`,
      );
    }
    return String(n);
  }
  if (spec.kind === 'double') {
    const n = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (
      !Number.isFinite(n) ||
      (spec.min !== undefined && n < spec.min) ||
      (spec.max !== undefined && n > spec.max)
    ) {
      throw new SluiceError(
        'INVALID_CONFIG',
        `${key} must be a number in [${spec.min}, ${spec.max}], got "${value}"`,
      );
    }
    return String(n);
  }
  if (key === 'cleanup.policy') return normalizeCleanupPolicy(text);
  if (!spec.choices?.includes(text)) {
    throw new SluiceError(
      'INVALID_CONFIG',
      `${key} must be one of ${spec.choices?.join(', ')}, got "${value}"`,
    );
  }
  return text;
}

/** `compact`, `delete`, or both in either order and with any spacing → the canonical spelling. */
function normalizeCleanupPolicy(text: string): string {
  const parts = new Set(text.split(',').map((p) => p.trim()));
  const known = [...parts].every((p) => p === 'compact' || p === 'delete');
  if (!known || parts.size === 0 || text.split(',').length !== parts.size) {
    throw new SluiceError(
      'INVALID_CONFIG',
      `cleanup.policy must be delete, compact or compact,delete, got "${text}"`,
    );
  }
  return parts.size === 2 ? 'compact,delete' : [...parts][0]!;
}

/** Validate a whole override map (createTopics / alterConfigs). */
export function validateTopicConfigs(configs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(configs)) out[k] = validateTopicConfig(k, v);
  return out;
}

function brokerDefault(key: TopicConfigKey, broker: BrokerConfig): string {
  const spec: TopicConfigSpec = TOPIC_CONFIGS[key];
  if (spec.brokerKey) return String(broker[spec.brokerKey]);
  return spec.default ?? '';
}

/** The effective value of every topic config key. */
export function effectiveTopicConfig(
  overrides: Record<string, string>,
  broker: BrokerConfig,
): Record<TopicConfigKey, string> {
  const out = {} as Record<TopicConfigKey, string>;
  for (const key of Object.keys(TOPIC_CONFIGS) as TopicConfigKey[])
    out[key] = overrides[key] ?? brokerDefault(key, broker);
  return out;
}

/** DescribeConfigs entries for a topic, with where each value comes from. */
export function describeTopicConfig(
  overrides: Record<string, string>,
  broker: BrokerConfig,
  brokerSources: Record<SettingKey, string>,
  keys?: string[],
): ConfigEntry[] {
  const wanted =
    keys && keys.length > 0
      ? keys.filter(isTopicConfigKey)
      : (Object.keys(TOPIC_CONFIGS) as TopicConfigKey[]);
  return wanted.map((key) => {
    const spec: TopicConfigSpec = TOPIC_CONFIGS[key];
    const override = overrides[key];
    const fromBroker = spec.brokerKey !== undefined && brokerSources[spec.brokerKey] !== 'default';
    const source = override !== undefined ? 'TOPIC' : fromBroker ? 'BROKER' : 'DEFAULT';
    return {
      name: key,
      value: override ?? brokerDefault(key, broker),
      source,
      isDefault: source === 'DEFAULT',
      readOnly: spec.only !== undefined || key === 'min.insync.replicas',
      sensitive: false,
    };
  });
}

/** The storage engine's view of a topic's configuration. */
export function toLogConfig(overrides: Record<string, string>, broker: BrokerConfig): LogConfig {
  const c = effectiveTopicConfig(overrides, broker);
  return {
    ...DEFAULT_LOG_CONFIG,
    cleanupPolicy: c['cleanup.policy'] as LogConfig['cleanupPolicy'],
    retentionMs: Number(c['retention.ms']),
    retentionBytes: Number(c['retention.bytes']),
    segmentBytes: Number(c['segment.bytes']),
    segmentMs: Number(c['segment.ms']),
    segmentIndexBytes: Number(c['segment.index.bytes']),
    indexIntervalBytes: Number(c['index.interval.bytes']),
    maxMessageBytes: Number(c['max.message.bytes']),
    messageTimestampType: c['message.timestamp.type'] as LogConfig['messageTimestampType'],
    flushMessages: Number(c['flush.messages']),
    flushMs: Number(c['flush.ms']),
    producerIdExpirationMs: broker['producer.id.expiration.ms'],
    minCleanableDirtyRatio: Number(c['min.cleanable.dirty.ratio']),
    deleteRetentionMs: Number(c['delete.retention.ms']),
    minCompactionLagMs: Number(c['min.compaction.lag.ms']),
    cleanerEnable: broker['log.cleaner.enable'],
    cleanerBackoffMs: broker['log.cleaner.backoff.ms'],
  };
}

/** Kafka's topic-name rules: [a-zA-Z0-9._-], 1..249 characters, not "." or "..". */
export function checkTopicName(name: string): void {
  if (name.length === 0) throw new SluiceError('INVALID_TOPIC_EXCEPTION', 'a topic name cannot be empty');
  if (name.length > 249)
    throw new SluiceError(
      'INVALID_TOPIC_EXCEPTION',
      `topic name is ${name.length} characters, the maximum is 249`,
    );
  if (name === '.' || name === '..')
    throw new SluiceError('INVALID_TOPIC_EXCEPTION', `"${name}" is not a valid topic name`);
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    throw new SluiceError(
      'INVALID_TOPIC_EXCEPTION',
      `topic name "${name}" may only contain ASCII letters, digits, ".", "_" and "-"`,
    );
  }
}

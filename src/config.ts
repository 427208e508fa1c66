/**
 * The broker configuration schema: every setting once, with its type, default, bounds and meaning.
 *
 * Sources, highest precedence first: command-line flags (`--data-dir`), environment (`SLUICE_DATA_DIR`),
 * a config file (`--config FILE`: Kafka-style `key=value` lines, or JSON when the name ends in
 * `.json`), then the defaults below. Keys are dotted like Kafka's (`log.retention.ms`); the flag is the
 * key with dashes (`--log-retention-ms`), the environment variable is `SLUICE_` + the key in upper
 * snake case (`SLUICE_LOG_RETENTION_MS`). Unknown keys are errors in every source.
 *
 * docs/configuration.md lists every key; test/unit/config.test.ts keeps the two in step.
 */
import fs from 'node:fs';

type Kind = 'int' | 'double' | 'bool' | 'string' | 'enum';

export interface SettingSpec {
  kind: Kind;
  default: number | boolean | string;
  doc: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const SETTINGS = {
  'data.dir': {
    kind: 'string',
    default: './data',
    doc: 'Directory holding the topic registry and one sub-directory per partition.',
  },
  host: {
    kind: 'string',
    default: '127.0.0.1',
    doc: 'Address the HTTP/WebSocket and Kafka listeners bind to.',
  },
  port: { kind: 'int', default: 7070, min: 0, max: 65535, doc: 'HTTP + WebSocket port (0 = any free port).' },
  'kafka.port': {
    kind: 'int',
    default: 9092,
    min: 0,
    max: 65535,
    doc: 'Kafka wire-protocol port (0 = any free port).',
  },
  'advertised.host': {
    kind: 'string',
    default: '',
    doc: 'Host name given to clients in metadata (default: the bind host, or 127.0.0.1 when bound to all interfaces).',
  },
  'node.id': { kind: 'int', default: 0, min: 0, max: 2147483647, doc: 'This broker’s node id.' },
  workers: {
    kind: 'int',
    default: 0,
    min: 0,
    max: 256,
    doc: 'Worker threads owning partitions (0 = one per CPU core).',
  },
  'auto.create.topics.enable': {
    kind: 'bool',
    default: true,
    doc: 'Create a topic on first use (metadata request or produce) when it does not exist.',
  },
  'num.partitions': {
    kind: 'int',
    default: 1,
    min: 1,
    max: 100000,
    doc: 'Partitions of an auto-created topic, and the default for createTopics.',
  },
  'log.segment.bytes': {
    kind: 'int',
    default: 1073741824,
    min: 14,
    max: 2147483647,
    doc: 'Default segment.bytes of topics.',
  },
  'log.roll.ms': {
    kind: 'int',
    default: 604800000,
    min: 1,
    max: LONG_MAX,
    doc: 'Default segment.ms of topics.',
  },
  'log.retention.ms': {
    kind: 'int',
    default: 604800000,
    min: -1,
    max: LONG_MAX,
    doc: 'Default retention.ms of topics (-1: forever).',
  },
  'log.retention.bytes': {
    kind: 'int',
    default: -1,
    min: -1,
    max: LONG_MAX,
    doc: 'Default retention.bytes of topics (-1: no limit).',
  },
  'log.retention.check.interval.ms': {
    kind: 'int',
    default: 300000,
    min: 1,
    max: LONG_MAX,
    doc: 'How often retention runs on every partition.',
  },
  'log.flush.interval.messages': {
    kind: 'int',
    default: LONG_MAX,
    min: 1,
    max: LONG_MAX,
    doc: 'Default flush.messages of topics (1 = fsync before every acknowledgement).',
  },
  'log.flush.interval.ms': {
    kind: 'int',
    default: LONG_MAX,
    min: 0,
    max: LONG_MAX,
    doc: 'Default flush.ms of topics.',
  },
  'log.cleanup.policy': {
    kind: 'enum',
    default: 'delete',
    choices: ['delete', 'compact', 'compact,delete'],
    doc: 'Default cleanup.policy of topics: delete (retention), compact (newest record per key), or both.',
  },
  'log.message.timestamp.type': {
    kind: 'enum',
    default: 'CreateTime',
    choices: ['CreateTime', 'LogAppendTime'],
    doc: 'Default message.timestamp.type of topics.',
  },
  'log.index.interval.bytes': {
    kind: 'int',
    default: 4096,
    min: 0,
    max: 2147483647,
    doc: 'Default index.interval.bytes of topics.',
  },
  'message.max.bytes': {
    kind: 'int',
    default: 1048588,
    min: 0,
    max: 2147483647,
    doc: 'Default max.message.bytes of topics: the largest record batch accepted.',
  },
  'producer.id.expiration.ms': {
    kind: 'int',
    default: 86400000,
    min: 1,
    max: 2147483647,
    doc: 'Forget an idempotent producer’s state after this long without writes.',
  },
  'group.min.session.timeout.ms': {
    kind: 'int',
    default: 6000,
    min: 1,
    max: 2147483647,
    doc: 'Smallest session timeout a consumer-group member may ask for.',
  },
  'group.max.session.timeout.ms': {
    kind: 'int',
    default: 1800000,
    min: 1,
    max: 2147483647,
    doc: 'Largest session timeout a consumer-group member may ask for.',
  },
  'group.initial.rebalance.delay.ms': {
    kind: 'int',
    default: 3000,
    min: 0,
    max: 2147483647,
    doc: 'How long the first rebalance of an empty group waits for more members to join.',
  },
  'offsets.topic.num.partitions': {
    kind: 'int',
    default: 8,
    min: 1,
    max: 1000,
    doc: 'Partitions of the internal __consumer_offsets topic (used when it is first created).',
  },
  'offset.metadata.max.bytes': {
    kind: 'int',
    default: 4096,
    min: 0,
    max: 2147483647,
    doc: 'Largest metadata string a committed offset may carry.',
  },
  'offsets.retention.minutes': {
    kind: 'int',
    default: 10080,
    min: 1,
    max: 2147483647,
    doc: 'Committed offsets of a group that has been empty this long are deleted.',
  },
  'offsets.retention.check.interval.ms': {
    kind: 'int',
    default: 600000,
    min: 1,
    max: 2147483647,
    doc: 'How often expired offsets are looked for.',
  },
  'ws.max.frame.bytes': {
    kind: 'int',
    default: 104857600,
    min: 1024,
    max: 2147483647,
    doc: 'Largest WebSocket message accepted; a bigger frame closes the connection (1009) before it is buffered.',
  },
  'ws.max.inflight.requests': {
    kind: 'int',
    default: 1024,
    min: 1,
    max: 1048576,
    doc: 'Requests one client connection (WebSocket or Kafka) may have outstanding; the broker stops reading it at this depth.',
  },
  'ws.max.inflight.bytes': {
    kind: 'int',
    default: 67108864,
    min: 1024,
    max: 2147483647,
    doc: 'Bytes of request frames one client connection (WebSocket or Kafka) may have outstanding; the broker stops reading it above this.',
  },
  'ws.send.buffer.high.water.bytes': {
    kind: 'int',
    default: 16777216,
    min: 65536,
    max: 2147483647,
    doc: 'Unsent response bytes on a connection above which the broker stops reading its requests.',
  },
  'socket.request.max.bytes': {
    kind: 'int',
    default: 104857600,
    min: 1024,
    max: 2147483647,
    doc: 'Largest Kafka request frame accepted (checked before the frame is allocated).',
  },
  'shutdown.timeout.ms': {
    kind: 'int',
    default: 10000,
    min: 0,
    max: 2147483647,
    doc: 'On SIGTERM/SIGINT, how long to let in-flight requests finish before closing connections.',
  },
  // Log compaction (src/storage/log-cleaner.ts).
  'log.cleaner.enable': {
    kind: 'bool',
    default: true,
    doc: 'Run the log cleaner on partitions whose cleanup.policy includes compact.',
  },
  'log.cleaner.backoff.ms': {
    kind: 'int',
    default: 15000,
    min: 1,
    max: LONG_MAX,
    doc: 'How long a compacted partition that needed no cleaning waits before it is checked again.',
  },
  'log.cleaner.min.cleanable.ratio': {
    kind: 'double',
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'Default min.cleanable.dirty.ratio of topics.',
  },
  'log.cleaner.delete.retention.ms': {
    kind: 'int',
    default: 86400000,
    min: 0,
    max: LONG_MAX,
    doc: 'Default delete.retention.ms of topics.',
  },
  'log.cleaner.min.compaction.lag.ms': {
    kind: 'int',
    default: 0,
    min: 0,
    max: LONG_MAX,
    doc: 'Default min.compaction.lag.ms of topics.',
  },
  // Metrics (src/metrics, docs/metrics.md).
  'metrics.partition.labels': {
    kind: 'bool',
    default: true,
    doc: 'Label per-partition metrics with `partition`; false sums them per topic (fewer series with many partitions).',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S extends SettingSpec> = S['kind'] extends 'int' | 'double'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : string;

export type BrokerConfig = { -readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

export function flagName(key: SettingKey): string {
  return `--${key.replaceAll('.', '-')}`;
}

export function envName(key: SettingKey): string {
  return `SLUICE_${key.replaceAll('.', '_').replaceAll('-', '_').toUpperCase()}`;
}

const byEnv = new Map<string, SettingKey>(
  Object.keys(SETTINGS).map((k) => [envName(k as SettingKey), k as SettingKey]),
);

/** Environment variables with the SLUICE_ prefix that are not settings (and are not for the CLI). */
const NOT_SETTINGS = new Set(['SLUICE_BOOTSTRAP', 'SLUICE_CONFIG', 'SLUICE_WORKER_EXEC_ARGV']);

/** Parse one setting's text (from any source) into its typed value. */
export function parseSetting(key: SettingKey, raw: unknown, where: string): number | boolean | string {
  const spec: SettingSpec = SETTINGS[key];
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (spec.kind) {
    case 'int': {
      const n =
        typeof text === 'number'
          ? text
          : typeof text === 'string' && /^-?\d+$/.test(text)
            ? Number(text)
            : Number.NaN;
      if (!Number.isSafeInteger(n))
        throw new ConfigError(`${where}: ${key} must be an integer, got ${JSON.stringify(raw)}`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new ConfigError(`${where}: ${key} must be in [${spec.min}, ${spec.max}], got ${n}`);
      }
      return n;
    }
    case 'double': {
      const n =
        typeof text === 'number'
          ? text
          : typeof text === 'string' && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)
            ? Number(text)
            : Number.NaN;
      if (!Number.isFinite(n))
        throw new ConfigError(`${where}: ${key} must be a number, got ${JSON.stringify(raw)}`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new ConfigError(`${where}: ${key} must be in [${spec.min}, ${spec.max}], got ${n}`);
      }
      return n;
    }
    case 'bool':
      if (text === true || text === 'true') return true;
      if (text === false || text === 'false') return false;
      throw new ConfigError(`${where}: ${key} must be true or false, got ${JSON.stringify(raw)}`);
    case 'enum':
      if (typeof text !== 'string' || !spec.choices?.includes(text)) {
        throw new ConfigError(
          `${where}: ${key} must be one of ${spec.choices?.join(', ')}, got ${JSON.stringify(raw)}`,
        );
      }
      return text;
    case 'string':
      if (typeof text !== 'string') throw new ConfigError(`${where}: ${key} must be a string`);
      return text;
  }
}

/** Read a config file: `key=value` lines (Kafka's server.properties style), or JSON for `*.json`. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (path.endsWith('.json')) {
    try {
      const parsed = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      return parsed as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config file ${path} is not a JSON object: ${(err as Error).message}`);
    }
  }
  const out: Record<string, unknown> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('!')) return;
    const eq = trimmed.indexOf('=');
    if (eq <= 0)
      throw new ConfigError(`${path}:${i + 1}: expected key=value, got ${JSON.stringify(trimmed)}`);
    out[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  });
  return out;
}

export interface ResolvedConfig {
  config: BrokerConfig;
  sources: Record<SettingKey, ConfigSource>;
}

/**
 * Merge the sources (flags > env > file > defaults). `flags` holds values by setting key, already
 * taken from the command line (strings or typed values).
 */
export function resolveConfig(options: {
  flags?: Partial<Record<SettingKey, unknown>>;
  env?: Record<string, string | undefined>;
  file?: string;
}): ResolvedConfig {
  const config = {} as Record<SettingKey, number | boolean | string>;
  const sources = {} as Record<SettingKey, ConfigSource>;
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    config[key] = SETTINGS[key].default;
    sources[key] = 'default';
  }
  if (options.file) {
    for (const [key, raw] of Object.entries(readConfigFile(options.file))) {
      if (!isSettingKey(key)) throw new ConfigError(`${options.file}: unknown setting "${key}"`);
      config[key] = parseSetting(key, raw, options.file);
      sources[key] = 'file';
    }
  }
  for (const [name, raw] of Object.entries(options.env ?? {})) {
    if (!name.startsWith('SLUICE_') || raw === undefined || NOT_SETTINGS.has(name)) continue;
    const key = byEnv.get(name);
    if (!key) throw new ConfigError(`environment: unknown setting ${name}`);
    config[key] = parseSetting(key, raw, `environment ${name}`);
    sources[key] = 'env';
  }
  for (const [key, raw] of Object.entries(options.flags ?? {})) {
    if (raw === undefined) continue;
    if (!isSettingKey(key)) throw new ConfigError(`unknown setting "${key}"`);
    config[key] = parseSetting(key, raw, `flag ${flagName(key)}`);
    sources[key] = 'flag';
  }
  return { config: config as BrokerConfig, sources };
}

export function defaultConfig(): BrokerConfig {
  return resolveConfig({}).config;
}

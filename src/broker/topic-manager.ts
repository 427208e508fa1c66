/**
 * TopicManager: topic lifecycle over the registry (metadata, persisted) and the partition engine
 * (logs, on worker threads). Create, auto-create, delete, add partitions, alter configs, and the
 * start-up pass that opens every partition. Admin changes are serialised by one async lock.
 *
 * Ordering for crash safety: a topic is recorded in the registry before its partitions are created,
 * and removed from it before they are deleted; a new topic's partitions always start empty (any
 * directory left over from an earlier topic of the same name is removed first).
 *
 * Main thread only.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { BrokerConfig, ConfigSource, SettingKey } from '../config.ts';
import { SluiceError } from '../errors.ts';
import type { ConfigEntry } from '../protocol/wire/ops.ts';
import type { PartitionEngine } from '../router/partition-engine.ts';
import { partitionKey } from '../router/shard-table.ts';
import type { LogConfig } from '../storage/log-config.ts';
import {
  checkTopicName,
  describeTopicConfig,
  isTopicConfigKey,
  toLogConfig,
  validateTopicConfig,
  validateTopicConfigs,
} from './topic-config.ts';
import { type TopicRecord, TopicRegistry } from './topic-registry.ts';

/** Kafka's limit on partitions per topic request is much higher; this guards against typos like 1e6. */
export const MAX_PARTITIONS = 10_000;

export interface TopicEvents {
  /** A topic was deleted (parked fetches on it must answer). */
  deleted: [name: string];
}

export class TopicManager extends EventEmitter<TopicEvents> {
  private readonly registry: TopicRegistry;
  private readonly engine: PartitionEngine;
  private readonly config: BrokerConfig;
  private readonly configSources: Record<SettingKey, ConfigSource>;
  private lock: Promise<unknown> = Promise.resolve();
  /** Auto-creations in progress, so concurrent first uses create a topic once. */
  private readonly creating = new Map<string, Promise<TopicRecord>>();

  constructor(
    dataDir: string,
    engine: PartitionEngine,
    config: BrokerConfig,
    configSources: Record<SettingKey, ConfigSource>,
  ) {
    super();
    this.registry = TopicRegistry.load(dataDir);
    this.engine = engine;
    this.config = config;
    this.configSources = configSources;
  }

  /** Open every partition of every registered topic (recovering those not closed cleanly). */
  async openAll(onProgress?: (done: number, total: number) => void): Promise<void> {
    const work: { topic: TopicRecord; partition: number }[] = [];
    for (const topic of this.registry.list())
      for (let p = 0; p < topic.partitions; p++) work.push({ topic, partition: p });
    let done = 0;
    await Promise.all(
      work.map(async ({ topic, partition }) => {
        await this.engine.openPartition(topic.name, partition, this.logConfig(topic));
        onProgress?.(++done, work.length);
      }),
    );
  }

  list(): TopicRecord[] {
    return this.registry.list();
  }

  get(name: string): TopicRecord | undefined {
    return this.registry.get(name);
  }

  getById(topicId: string): TopicRecord | undefined {
    return this.registry.getById(topicId);
  }

  logConfig(topic: TopicRecord): LogConfig {
    return toLogConfig(topic.configs, this.config);
  }

  /** The topic, created with broker defaults if it does not exist and auto-creation is allowed. */
  async ensure(name: string, allowAutoCreate: boolean): Promise<TopicRecord | undefined> {
    const existing = this.registry.get(name);
    if (existing) return existing;
    if (!allowAutoCreate || !this.config['auto.create.topics.enable']) return undefined;
    checkTopicName(name);
    let pending = this.creating.get(name);
    if (!pending) {
      pending = this.create(name, -1, -1, {}).finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    try {
      return await pending;
    } catch (err) {
      // Lost a race with an explicit create: fine.
      if (err instanceof SluiceError && err.code === 'TOPIC_ALREADY_EXISTS') return this.registry.get(name);
      throw err;
    }
  }

  /** Create a topic (numPartitions / replicationFactor -1 = broker defaults). Throws SluiceError. */
  create(
    name: string,
    numPartitions: number,
    replicationFactor: number,
    configs: Record<string, string>,
    options: { validateOnly?: boolean; internal?: boolean } = {},
  ): Promise<TopicRecord> {
    return this.exclusive(async () => {
      checkTopicName(name);
      if (this.registry.get(name))
        throw new SluiceError('TOPIC_ALREADY_EXISTS', `topic "${name}" already exists`);
      const partitions = numPartitions === -1 ? this.config['num.partitions'] : numPartitions;
      if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
        throw new SluiceError(
          'INVALID_PARTITIONS',
          `the number of partitions must be in [1, ${MAX_PARTITIONS}], got ${numPartitions}`,
        );
      }
      if (replicationFactor !== -1 && replicationFactor !== 1) {
        throw new SluiceError(
          'INVALID_REPLICATION_FACTOR',
          `replication factor ${replicationFactor} is larger than the number of brokers (1)`,
        );
      }
      const overrides = validateTopicConfigs(configs);
      if (options.validateOnly) {
        return {
          name,
          topicId: '',
          partitions,
          configs: overrides,
          internal: options.internal ?? false,
          createdAt: Date.now(),
        };
      }
      const record = this.registry.add(name, partitions, overrides, options.internal ?? false);
      const logConfig = this.logConfig(record);
      for (let p = 0; p < partitions; p++) this.clearLeftovers(name, p);
      await Promise.all(
        Array.from({ length: partitions }, (_, p) => this.engine.openPartition(name, p, logConfig)),
      );
      return record;
    });
  }

  delete(name: string): Promise<void> {
    return this.exclusive(async () => {
      const record = this.registry.get(name);
      if (!record) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
      if (record.internal) throw new SluiceError('INVALID_REQUEST', `"${name}" is an internal topic`);
      this.registry.remove(name);
      await Promise.all(
        Array.from({ length: record.partitions }, (_, p) => this.engine.deletePartition(name, p)),
      );
      this.emit('deleted', name);
    });
  }

  /** Grow a topic to `count` partitions (Kafka never shrinks a topic). */
  createPartitions(name: string, count: number, validateOnly = false): Promise<void> {
    return this.exclusive(async () => {
      const record = this.registry.get(name);
      if (!record) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
      if (count <= record.partitions) {
        throw new SluiceError(
          'INVALID_PARTITIONS',
          `topic "${name}" has ${record.partitions} partitions; the new count must be larger, got ${count}`,
        );
      }
      if (count > MAX_PARTITIONS)
        throw new SluiceError('INVALID_PARTITIONS', `at most ${MAX_PARTITIONS} partitions`);
      if (validateOnly) return;
      const logConfig = this.logConfig(record);
      const from = record.partitions;
      this.registry.update(name, { partitions: count });
      for (let p = from; p < count; p++) this.clearLeftovers(name, p);
      await Promise.all(
        Array.from({ length: count - from }, (_, i) => this.engine.openPartition(name, from + i, logConfig)),
      );
    });
  }

  /** Incremental config change: set some keys, remove the overrides of others. */
  alterConfigs(
    name: string,
    set: Record<string, string>,
    remove: string[],
    validateOnly = false,
  ): Promise<void> {
    return this.exclusive(async () => {
      const record = this.registry.get(name);
      if (!record) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
      const configs = { ...record.configs };
      for (const [k, v] of Object.entries(set)) configs[k] = validateTopicConfig(k, v);
      for (const k of remove) {
        if (!isTopicConfigKey(k)) throw new SluiceError('INVALID_CONFIG', `unknown topic config "${k}"`);
        delete configs[k];
      }
      if (validateOnly) return;
      this.registry.update(name, { configs });
      const logConfig = this.logConfig(record);
      await Promise.all(
        Array.from({ length: record.partitions }, (_, p) => this.engine.reconfigure(name, p, logConfig)),
      );
    });
  }

  describeConfigs(name: string, keys?: string[]): ConfigEntry[] {
    const record = this.registry.get(name);
    if (!record) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
    return describeTopicConfig(record.configs, this.config, this.configSources, keys);
  }

  /** A directory left by a deleted topic of the same name (an interrupted deletion) is not reused. */
  private clearLeftovers(topic: string, partition: number): void {
    fs.rmSync(path.join(this.engine.dataDir, partitionKey(topic, partition)), {
      recursive: true,
      force: true,
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }
}

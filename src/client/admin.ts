/**
 * The admin client: topics, partitions, configs and offsets, over the ops of docs/protocol.md.
 *
 * Per-item errors: every method that names several items (topics, resources, partitions) resolves
 * only if every item succeeded. Otherwise it rejects with an `AdminError`, a SluiceError whose `code`
 * is the first failing item's and whose `failures` lists every failing item with its own error. The
 * items that did not fail took effect (the broker applies them one by one), as in Kafka.
 * `createTopics({ ignoreExisting: true })` treats TOPIC_ALREADY_EXISTS as success.
 */
import { SluiceError } from '../errors.ts';
import {
  type BrokerInfo,
  type ConfigEntry,
  type ConfigResourceType,
  OffsetSpec,
  type PartitionMetadata,
} from '../protocol/wire/ops.ts';
import { AdminError, type AdminFailure, failuresOf } from './admin-error.ts';
import {
  deleteGroups,
  describeGroups,
  fetchGroupOffsets,
  type GroupDescription,
  type GroupListing,
  groupLag,
  listGroups,
  type OffsetResetPlan,
  type OffsetResetScope,
  type OffsetResetTarget,
  type PartitionLag,
  resetGroupOffsets,
} from './admin-groups.ts';
import { Connection, type ConnectionOptions } from './connection.ts';
import type { CommittedOffset } from './offset-commits.ts';
import type { ClientTransport } from './transport.ts';

export { AdminError, type AdminFailure };

/** Admin settings. */
export interface AdminOptions extends ConnectionOptions {
  /** Use this connection (shared, or a test transport) instead of opening one. */
  connection?: ClientTransport;
}

/** A topic to create. */
export interface NewTopic {
  name: string;
  /** Default: the broker's num.partitions. */
  numPartitions?: number;
  /** 1 (the broker keeps one replica). */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** A created topic. */
export interface CreatedTopic {
  name: string;
  topicId?: string;
  numPartitions?: number;
}

/** A topic and its partitions. */
export interface TopicDescription {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: PartitionMetadata[];
}

/** The cluster as `metadata` describes it. */
export interface ClusterMetadata {
  clusterId: string;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicDescription[];
}

/** A config resource and its entries. */
export interface ConfigResourceDescription {
  type: ConfigResourceType;
  name: string;
  configs: ConfigEntry[];
}

/** Which offset of a partition to look up: a timestamp (ms), or a special point. */
export type OffsetQuery = number | 'earliest' | 'latest' | 'maxTimestamp';

/** An offset lookup result (`offset` -1: no record at or after the timestamp). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** The admin client; see the module comment for how per-item errors surface. */
export class Admin {
  readonly #transport: ClientTransport;
  readonly #ownsTransport: boolean;

  /** An admin client; it connects on `connect()` or its first call. */
  constructor(options: AdminOptions = {}) {
    this.#ownsTransport = options.connection === undefined;
    this.#transport = options.connection ?? new Connection(options);
  }

  /** Connect now (optional). */
  connect(): Promise<void> {
    return this.#transport.connect();
  }

  /** Close the connection (if the admin client opened it). */
  async close(): Promise<void> {
    if (this.#ownsTransport) await this.#transport.close();
  }

  /** Create topics. */
  async createTopics(
    topics: readonly NewTopic[],
    options: { validateOnly?: boolean; ignoreExisting?: boolean } = {},
  ): Promise<CreatedTopic[]> {
    const response = await this.#transport.request('createTopics', {
      validateOnly: options.validateOnly ?? false,
      topics: topics.map((t) => ({ ...t })),
    });
    const results = response.topics.filter(
      (t) => !(options.ignoreExisting && t.error?.code === 'TOPIC_ALREADY_EXISTS'),
    );
    const failures = failuresOf(results, (t) => t.name);
    if (failures.length > 0) throw new AdminError('createTopics', failures);
    return results.map(({ name, topicId, numPartitions }) => ({
      name,
      ...(topicId === undefined ? {} : { topicId }),
      ...(numPartitions === undefined ? {} : { numPartitions }),
    }));
  }

  /** Delete topics. */
  async deleteTopics(names: readonly string[]): Promise<void> {
    const response = await this.#transport.request('deleteTopics', { topics: [...names] });
    const failures = failuresOf(response.topics, (t) => t.name);
    if (failures.length > 0) throw new AdminError('deleteTopics', failures);
  }

  /** Names of the topics (internal ones only when asked). */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const response = await this.#transport.request('metadata', {
      topics: null,
      allowAutoTopicCreation: false,
    });
    return response.topics.filter((t) => options.includeInternal || !t.isInternal).map((t) => t.name);
  }

  /** Cluster metadata for the named topics (default: all). Never creates topics. */
  async fetchMetadata(topics?: readonly string[]): Promise<ClusterMetadata> {
    const response = await this.#transport.request('metadata', {
      topics: topics ? [...topics] : null,
      allowAutoTopicCreation: false,
    });
    const failures = failuresOf(response.topics, (t) => t.name);
    if (failures.length > 0) throw new AdminError('fetchMetadata', failures);
    return {
      clusterId: response.clusterId,
      controllerId: response.controllerId,
      brokers: response.brokers,
      topics: response.topics.map(({ name, topicId, isInternal, partitions }) => ({
        name,
        topicId,
        isInternal,
        partitions,
      })),
    };
  }

  /** Describe the named topics (default: all). A missing topic fails with UNKNOWN_TOPIC_OR_PARTITION. */
  async describeTopics(topics?: readonly string[]): Promise<TopicDescription[]> {
    return (await this.fetchMetadata(topics)).topics;
  }

  /** Grow topics to `count` partitions in total. */
  async createPartitions(
    topics: readonly { name: string; count: number }[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    const response = await this.#transport.request('createPartitions', {
      validateOnly: options.validateOnly ?? false,
      topics: topics.map((t) => ({ name: t.name, count: t.count })),
    });
    const failures = failuresOf(response.topics, (t) => t.name);
    if (failures.length > 0) throw new AdminError('createPartitions', failures);
  }

  /** Configs of topics or brokers (a broker's name is its node id, "0"); `keys` limits the entries. */
  async describeConfigs(
    resources: readonly { type: ConfigResourceType; name: string; keys?: string[] }[],
  ): Promise<ConfigResourceDescription[]> {
    const response = await this.#transport.request('describeConfigs', {
      resources: resources.map((r) => ({ ...r })),
    });
    const failures = failuresOf(response.resources, (r) => r.name);
    if (failures.length > 0) throw new AdminError('describeConfigs', failures);
    return response.resources.map(({ type, name, configs }) => ({ type, name, configs }));
  }

  /** Change topic configs incrementally: `set` keys get new values, `delete` keys return to their defaults. */
  async alterConfigs(
    resources: readonly { type: 'topic'; name: string; set?: Record<string, string>; delete?: string[] }[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    const response = await this.#transport.request('alterConfigs', {
      validateOnly: options.validateOnly ?? false,
      resources: resources.map((r) => ({ ...r })),
    });
    const failures = failuresOf(response.resources, (r) => r.name);
    if (failures.length > 0) throw new AdminError('alterConfigs', failures);
  }

  /** Look up offsets: earliest, latest, the record with the largest timestamp, or the first at/after a time. */
  async listOffsets(
    queries: readonly { topic: string; partition: number; at: OffsetQuery }[],
  ): Promise<PartitionOffset[]> {
    const topics: { topic: string; partitions: { partition: number; timestamp: number }[] }[] = [];
    for (const q of queries) {
      let t = topics.find((x) => x.topic === q.topic);
      if (!t) topics.push((t = { topic: q.topic, partitions: [] }));
      t.partitions.push({
        partition: q.partition,
        timestamp: typeof q.at === 'number' ? q.at : OffsetSpec[q.at],
      });
    }
    const response = await this.#transport.request('listOffsets', { topics });
    const results: PartitionOffset[] = [];
    const failures: AdminFailure[] = [];
    for (const q of queries) {
      const part = response.topics
        .find((t) => t.topic === q.topic)
        ?.partitions.find((p) => p.partition === q.partition);
      if (!part) {
        failures.push({
          name: q.topic,
          partition: q.partition,
          error: new SluiceError('UNKNOWN_SERVER_ERROR', 'missing from the answer'),
        });
      } else if (part.error) {
        failures.push({ name: q.topic, partition: q.partition, error: SluiceError.from(part.error) });
      } else {
        results.push({
          topic: q.topic,
          partition: q.partition,
          offset: part.offset,
          timestamp: part.timestamp,
        });
      }
    }
    if (failures.length > 0) throw new AdminError('listOffsets', failures);
    return results;
  }

  /** Every partition of `topic` with its earliest (`low`) and latest (`high`, the high watermark) offset. */
  async fetchTopicOffsets(topic: string): Promise<{ partition: number; low: number; high: number }[]> {
    const [description] = await this.describeTopics([topic]);
    const partitions = (description?.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b);
    // Two requests: one partition may appear only once per request.
    const [low, high] = await Promise.all(
      (['earliest', 'latest'] as const).map((at) =>
        this.listOffsets(partitions.map((partition) => ({ topic, partition, at }))),
      ),
    );
    return partitions.map((partition, i) => ({
      partition,
      low: low![i]!.offset,
      high: high![i]!.offset,
    }));
  }

  /** Consumer groups, optionally only those in the given states (Empty, Stable, …). */
  listGroups(options: { states?: string[] } = {}): Promise<GroupListing[]> {
    return listGroups(this.#transport, options);
  }

  /** Describe groups: state, assignor, members with their client id, host and assigned partitions. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return describeGroups(this.#transport, groupIds);
  }

  /** Delete empty groups and their committed offsets (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND per group). */
  deleteGroups(groupIds: readonly string[]): Promise<void> {
    return deleteGroups(this.#transport, groupIds);
  }

  /** A group's committed offsets: of every partition of `topics`, or (default) every partition it committed. */
  fetchOffsets(groupId: string, topics?: readonly string[]): Promise<CommittedOffset[]> {
    return fetchGroupOffsets(this.#transport, groupId, topics);
  }

  /**
   * Move a group's committed offsets (kafka-consumer-groups.sh --reset-offsets): to the earliest or
   * latest offset, an offset, a time, or shifted by n, for `scope` (default: the topics the group has
   * committed). Targets are clamped to the log; only groups without members can be reset. Resolves
   * with the plan; `dryRun` plans without committing.
   */
  resetOffsets(
    groupId: string,
    target: OffsetResetTarget,
    options: { scope?: readonly OffsetResetScope[]; dryRun?: boolean } = {},
  ): Promise<OffsetResetPlan[]> {
    return resetGroupOffsets(this.#transport, groupId, target, options);
  }

  /** Per partition the group committed or has assigned: committed offset, log end offset and lag. */
  lag(groupId: string): Promise<PartitionLag[]> {
    return groupLag(this.#transport, groupId);
  }
}

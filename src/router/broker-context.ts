/**
 * What request handlers see of the broker: configuration, identity, the topic manager, the
 * partition engine, the fetch waiters, the group coordinator and the metrics hooks. Built once by
 * src/broker/broker.ts and shared by both front doors (WebSocket and Kafka), so both behave the same.
 */
import type { ProducerIdAllocator } from '../broker/data-dir.ts';
import type { TopicManager } from '../broker/topic-manager.ts';
import type { BrokerConfig, ConfigSource, SettingKey } from '../config.ts';
import type { GroupCoordinator } from '../coordinator/group-coordinator.ts';
import type { BrokerMetrics } from '../metrics/broker-metrics.ts';
import type { FetchWaiters } from './fetch-waiters.ts';
import type { PartitionEngine } from './partition-engine.ts';

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly configSources: Record<SettingKey, ConfigSource>;
  readonly nodeId: number;
  readonly clusterId: string;
  /** Where clients reach this broker (metadata answers). */
  readonly advertised: { host: string; port: number; kafkaPort: number };
  readonly engine: PartitionEngine;
  readonly topics: TopicManager;
  readonly producerIds: ProducerIdAllocator;
  readonly fetchWaiters: FetchWaiters;
  readonly coordinator: GroupCoordinator;
  /**
   * Metrics hooks (src/metrics): absent in tests that build a context by hand, so every call site
   * reads `ctx.metrics?.…`.
   */
  readonly metrics?: BrokerMetrics;
}

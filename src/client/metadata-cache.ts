/**
 * Topic metadata as the producer needs it (partition counts), from the `metadata` op. Entries are
 * kept until they are older than `maxAgeMs`; a stale entry is still served while a refresh runs in
 * the background, so the send path never waits for a periodic refresh. Errors that hint at changed
 * metadata (unknown partition, no leader) call `refresh` to reload at once. Concurrent loads of one
 * topic share one request.
 */
import { SluiceError } from '../errors.ts';
import type { ClientTransport } from './transport.ts';

/** What the client knows about one topic. */
export interface TopicInfo {
  readonly name: string;
  /** Number of partitions (partitions are numbered 0 … partitions − 1). */
  readonly partitions: number;
  /** When this was loaded (Date.now()). */
  readonly loadedAt: number;
}

/** Cache settings. */
export interface MetadataCacheOptions {
  /** Age after which an entry is refreshed in the background (default 300 000 ms, Kafka's metadata.max.age.ms). */
  maxAgeMs?: number;
  /** Ask the broker to create topics that do not exist (default true). */
  allowAutoTopicCreation?: boolean;
}

/** Per-topic metadata cache over a transport. */
export class MetadataCache {
  readonly #transport: ClientTransport;
  readonly #maxAgeMs: number;
  readonly #autoCreate: boolean;
  readonly #topics = new Map<string, TopicInfo>();
  readonly #loading = new Map<string, Promise<TopicInfo>>();

  /** A cache that loads through `transport`. */
  constructor(transport: ClientTransport, options: MetadataCacheOptions = {}) {
    this.#transport = transport;
    this.#maxAgeMs = options.maxAgeMs ?? 300_000;
    this.#autoCreate = options.allowAutoTopicCreation ?? true;
  }

  /** The cached entry (possibly stale, in which case a background refresh starts), or undefined. */
  get(topic: string): TopicInfo | undefined {
    const info = this.#topics.get(topic);
    if (info && Date.now() - info.loadedAt > this.#maxAgeMs) this.refresh(topic);
    return info;
  }

  /** Load (or reuse a load in progress of) `topic`. Rejects with the topic's error, e.g. UNKNOWN_TOPIC_OR_PARTITION. */
  load(topic: string): Promise<TopicInfo> {
    let loading = this.#loading.get(topic);
    if (!loading) {
      loading = this.#fetch(topic).finally(() => this.#loading.delete(topic));
      this.#loading.set(topic, loading);
    }
    return loading;
  }

  /** Reload `topic` in the background; failures keep the old entry. */
  refresh(topic: string): void {
    this.load(topic).catch(() => {});
  }

  /** Forget `topic` (e.g. after deleting it). */
  invalidate(topic: string): void {
    this.#topics.delete(topic);
  }

  async #fetch(topic: string): Promise<TopicInfo> {
    const response = await this.#transport.request('metadata', {
      topics: [topic],
      allowAutoTopicCreation: this.#autoCreate,
    });
    const entry = response.topics.find((t) => t.name === topic);
    if (!entry)
      throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `metadata has no entry for topic ${topic}`);
    if (entry.error) throw SluiceError.from(entry.error);
    if (entry.partitions.length === 0) {
      throw new SluiceError('LEADER_NOT_AVAILABLE', `topic ${topic} has no partitions yet`);
    }
    const info: TopicInfo = { name: topic, partitions: entry.partitions.length, loadedAt: Date.now() };
    this.#topics.set(topic, info);
    return info;
  }
}

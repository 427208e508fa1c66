/**
 * The topic registry, persisted as `<data-dir>/topics.json`:
 *   { "version": 1, "topics": [ { "name", "topicId" (UUID), "partitions", "configs" {key: value},
 *                                 "internal", "createdAt" } ] }
 * Written whole to a temporary file, fsynced and renamed, so a crash leaves the old or the new
 * registry, never a torn one. Only topic metadata lives here; partitions live in their own
 * directories (`<topic>-<partition>/`), owned by worker threads.
 *
 * Main thread only. Mutations are serialised by the caller (TopicManager).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonAtomically } from '../storage/atomic-file.ts';

export const REGISTRY_FILE = 'topics.json';

export interface TopicRecord {
  name: string;
  /** Persistent, never reused: a topic deleted and created again gets a new id. */
  topicId: string;
  partitions: number;
  /** Overrides only (Kafka topic config names → values). */
  configs: Record<string, string>;
  internal: boolean;
  createdAt: number;
}

export class TopicRegistry {
  private readonly file: string;
  private readonly topics = new Map<string, TopicRecord>();
  private readonly byId = new Map<string, TopicRecord>();

  private constructor(dataDir: string) {
    this.file = path.join(dataDir, REGISTRY_FILE);
  }

  static load(dataDir: string): TopicRegistry {
    const registry = new TopicRegistry(dataDir);
    let text: string | undefined;
    try {
      text = fs.readFileSync(registry.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { version?: number; topics?: TopicRecord[] };
      if (parsed.version !== 1 || !Array.isArray(parsed.topics)) {
        throw new Error(`${registry.file} is not a Sluice topic registry (version 1)`);
      }
      for (const t of parsed.topics) registry.index(t);
    }
    return registry;
  }

  get size(): number {
    return this.topics.size;
  }

  list(): TopicRecord[] {
    return [...this.topics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): TopicRecord | undefined {
    return this.topics.get(name);
  }

  getById(topicId: string): TopicRecord | undefined {
    return this.byId.get(topicId);
  }

  add(name: string, partitions: number, configs: Record<string, string>, internal = false): TopicRecord {
    const record: TopicRecord = {
      name,
      topicId: randomUUID(),
      partitions,
      configs,
      internal,
      createdAt: Date.now(),
    };
    this.index(record);
    this.save();
    return record;
  }

  remove(name: string): TopicRecord | undefined {
    const record = this.topics.get(name);
    if (!record) return undefined;
    this.topics.delete(name);
    this.byId.delete(record.topicId);
    this.save();
    return record;
  }

  update(name: string, change: Partial<Pick<TopicRecord, 'partitions' | 'configs'>>): TopicRecord {
    const record = this.topics.get(name);
    if (!record) throw new Error(`no topic ${name}`);
    Object.assign(record, change);
    this.save();
    return record;
  }

  private index(record: TopicRecord): void {
    this.topics.set(record.name, record);
    this.byId.set(record.topicId, record);
  }

  private save(): void {
    writeJsonAtomically(this.file, { version: 1, topics: this.list() }, 2);
  }
}

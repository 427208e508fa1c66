/**
 * The shard table: the ONE place that decides which worker thread owns a partition.
 *
 * Rule: `(fnv1a32(topic) + partition) mod workerCount`. It depends only on the topic name, the
 * partition index and the worker count, so it is stable across restarts with the same worker count,
 * and consecutive partitions of a topic land on different workers (parallel appends). Ownership is a
 * runtime matter only: files are in `<data-dir>/<topic>-<partition>/` whatever the worker count, so
 * changing `--workers` between runs just moves partitions to other threads.
 */

/** The key of a partition between threads, and its directory name (as Kafka names it). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** 32-bit FNV-1a over the UTF-16 code units of a string. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class ShardTable {
  readonly workerCount: number;

  constructor(workerCount: number) {
    if (!Number.isInteger(workerCount) || workerCount < 1) throw new RangeError('workerCount must be ≥ 1');
    this.workerCount = workerCount;
  }

  shardOf(topic: string, partition: number): number {
    return (fnv1a32(topic) + partition) % this.workerCount;
  }
}

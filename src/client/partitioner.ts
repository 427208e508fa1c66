/**
 * Choosing a partition for a record, as Kafka's clients do, so that the same key lands on the same
 * partition whether it is produced with Sluice's client, kafkajs or the Java client:
 *   - an explicit `partition` wins;
 *   - a key: `(murmur2(utf8 or bytes of key) & 0x7fffffff) % partitions` (Kafka's
 *     Utils.murmur2 with seed 0x9747b28c, the same as kafkajs's default partitioner);
 *   - no key: sticky partitioning (KIP-480): every keyless record of a topic goes to one partition
 *     until that partition's batch is closed, then a new one is drawn, so keyless records form full
 *     batches instead of one tiny batch per partition.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (32-bit, seed 0x9747b28c) of `data[0, length)`, as a signed int32. */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The tail bytes, as Kafka's switch with fall-through does it.
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();
/** Scratch space for string keys: hashing a string key allocates nothing unless it is long. */
let scratch = new Uint8Array(256);

/** murmur2 of a key given as bytes or as a string (hashed as UTF-8, like kafkajs and Java). */
export function murmur2Key(key: Uint8Array | string): number {
  if (typeof key !== 'string') return murmur2(key);
  const n = key.length;
  if (n * 3 > scratch.length) scratch = new Uint8Array(n * 3);
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    scratch[i] = c;
  }
  if (ascii) return murmur2(scratch, n);
  return murmur2(scratch, encoder.encodeInto(key, scratch).written);
}

/** The partition Kafka's default partitioner picks for `key` among `partitions`. */
export function partitionForKey(key: Uint8Array | string, partitions: number): number {
  return (murmur2Key(key) & 0x7fffffff) % partitions;
}

/**
 * The sticky partition of one topic for keyless records (KIP-480). `current` is read on the hot path;
 * `onBatchClosed` draws a new one when the sticky partition's batch is closed.
 */
export class StickyPartition {
  /** Partition for the next keyless record. */
  current: number;
  #partitions: number;
  readonly #random: () => number;

  /** Draws the first sticky partition among `partitions`. */
  constructor(partitions: number, random: () => number = Math.random) {
    this.#partitions = partitions;
    this.#random = random;
    this.current = Math.floor(random() * partitions);
  }

  /** The topic's partition count changed (partitions were added). */
  resize(partitions: number): void {
    this.#partitions = partitions;
    if (this.current >= partitions) this.current = Math.floor(this.#random() * partitions);
  }

  /** A batch of `partition` was closed: if it was the sticky one, move to another partition. */
  onBatchClosed(partition: number): void {
    if (partition !== this.current) return;
    const n = this.#partitions;
    if (n <= 1) return;
    // A different partition, uniformly among the other n − 1.
    const pick = Math.floor(this.#random() * (n - 1));
    this.current = pick >= partition ? pick + 1 : pick;
  }
}

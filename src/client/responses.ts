/**
 * Small helpers shared by the clients for the per-topic, per-partition shape of requests and
 * responses (produce, fetch, listOffsets), and for turning anything thrown into a SluiceError.
 */
import { SluiceError } from '../errors.ts';

/** Anything thrown by a transport or a codec, as a SluiceError (match on `code`). */
export function toSluiceError(err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  return new SluiceError('UNKNOWN_SERVER_ERROR', err instanceof Error ? err.message : String(err), {
    cause: err,
  });
}

/** The entry for `topic`/`partition` in a `{ topics: [{ topic, partitions: [{ partition }] }] }` response. */
export function findPartition<P extends { partition: number }>(
  response: { topics: readonly { topic: string; partitions: readonly P[] }[] },
  topic: string,
  partition: number,
): P | undefined {
  for (const t of response.topics) {
    if (t.topic !== topic) continue;
    for (const p of t.partitions) if (p.partition === partition) return p;
  }
  return undefined;
}

/** Group per-partition request entries by topic, in first-seen order. */
export function groupByTopic<S extends { topic: string }, T>(
  items: readonly S[],
  entry: (item: S) => T,
): { topic: string; partitions: T[] }[] {
  const topics: { topic: string; partitions: T[] }[] = [];
  for (const item of items) {
    let t = topics.find((x) => x.topic === item.topic);
    if (!t) topics.push((t = { topic: item.topic, partitions: [] }));
    t.partitions.push(entry(item));
  }
  return topics;
}

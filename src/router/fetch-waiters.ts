/**
 * Parked fetches (long poll): a fetch that found less than minBytes waits here until a partition it
 * reads from gets new data (the engine's `offsets` events, sent by the owning worker after appends),
 * until its deadline, or until the topic is deleted. Waking is cheap: waiters are indexed by
 * partition key and only those whose fetch offset is below the new high watermark wake.
 *
 * Main thread only.
 */
import type { PartitionEngine } from './partition-engine.ts';

interface Waiter {
  offsets: Map<string, number>;
  wake: () => void;
}

export class FetchWaiters {
  private readonly byKey = new Map<string, Set<Waiter>>();
  private parked = 0;

  constructor(engine: PartitionEngine) {
    engine.on('offsets', (key, highWatermark) => this.moved(key, highWatermark));
  }

  /** Fetches parked right now. */
  get size(): number {
    return this.parked;
  }

  /**
   * Resolves when the high watermark of any listed partition passes the listed offset, at
   * `deadline` (epoch ms), or when `signal` aborts; never rejects.
   */
  wait(offsets: Map<string, number>, deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { offsets, wake: () => {} };
      const timer = setTimeout(() => waiter.wake(), Math.max(0, deadline - Date.now()));
      const onAbort = () => waiter.wake();
      waiter.wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        for (const key of offsets.keys()) {
          const set = this.byKey.get(key);
          set?.delete(waiter);
          if (set?.size === 0) this.byKey.delete(key);
        }
        this.parked--;
        waiter.wake = () => {};
        resolve();
      };
      this.parked++;
      for (const key of offsets.keys()) {
        let set = this.byKey.get(key);
        if (!set) this.byKey.set(key, (set = new Set()));
        set.add(waiter);
      }
      if (signal?.aborted) waiter.wake();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Wake every fetch waiting on a partition of `topic` (deleted topics answer at once). */
  wakeTopic(topic: string): void {
    for (const [key, set] of this.byKey) {
      if (key.slice(0, key.lastIndexOf('-')) === topic) for (const w of [...set]) w.wake();
    }
  }

  private moved(key: string, highWatermark: number): void {
    const set = this.byKey.get(key);
    if (!set) return;
    for (const w of [...set]) if (highWatermark > (w.offsets.get(key) ?? Number.POSITIVE_INFINITY)) w.wake();
  }
}

/**
 * Plain-number latency histograms for the worker threads (no prom-client there: only the main thread
 * touches it). A worker times each request from its arrival to its answer, counts the durations into
 * fixed buckets per op, and hands the counts over with its periodic report; the main thread adds them
 * up and exports them as `sluice_worker_task_duration_seconds` (reported-histogram.ts).
 *
 * Cost per request: one performance.now() and one Map set at arrival, one lookup, delete and bucket
 * search (16 bounds) at the answer; nothing per record.
 *
 * Worker threads (TaskLatency) and main thread (bucketIndex).
 */
import { performance } from 'node:perf_hooks';
import { TASK_SECONDS_BUCKETS } from './definitions.ts';

/** Index of the first bucket whose upper bound holds `value` (bounds.length for +Inf). */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  return i;
}

/** One op's durations since the last report: counts per bucket (non-cumulative, last = +Inf). */
export interface TaskLatencyCounts {
  op: string;
  counts: number[];
  sumSeconds: number;
}

interface Started {
  op: string;
  at: number;
}

export class TaskLatency {
  private readonly started = new Map<number, Started>();
  private byOp = new Map<string, TaskLatencyCounts>();

  constructor(private readonly bounds: readonly number[] = TASK_SECONDS_BUCKETS) {}

  /** A request arrived (ids ≤ 0 are the worker's own or reopen requests: not timed). */
  start(id: number, op: string): void {
    if (id > 0) this.started.set(id, { op, at: performance.now() });
  }

  /** The request was answered (success or failure). */
  end(id: number): void {
    const s = this.started.get(id);
    if (s === undefined) return;
    this.started.delete(id);
    const seconds = (performance.now() - s.at) / 1000;
    let c = this.byOp.get(s.op);
    if (c === undefined) {
      c = { op: s.op, counts: new Array<number>(this.bounds.length + 1).fill(0), sumSeconds: 0 };
      this.byOp.set(s.op, c);
    }
    c.counts[bucketIndex(this.bounds, seconds)]!++;
    c.sumSeconds += seconds;
  }

  /** The counts since the last call (undefined when nothing was answered), and start afresh. */
  take(): TaskLatencyCounts[] | undefined {
    if (this.byOp.size === 0) return undefined;
    const out = [...this.byOp.values()];
    this.byOp = new Map();
    return out;
  }
}

/**
 * The worker-side latency counts: bucket search, start/end pairing by request id, take-and-reset.
 */
import { describe, expect, it, vi } from 'vitest';
import { TASK_SECONDS_BUCKETS } from '../../../src/metrics/definitions.ts';
import { bucketIndex, TaskLatency } from '../../../src/metrics/task-latency.ts';

describe('bucketIndex', () => {
  it('finds the first bound that holds the value (le semantics), or +Inf', () => {
    const bounds = [0.001, 0.01, 0.1];
    expect(bucketIndex(bounds, 0)).toBe(0);
    expect(bucketIndex(bounds, 0.001)).toBe(0);
    expect(bucketIndex(bounds, 0.0011)).toBe(1);
    expect(bucketIndex(bounds, 0.1)).toBe(2);
    expect(bucketIndex(bounds, 7)).toBe(3);
  });
});

describe('TaskLatency', () => {
  it('times requests by op from start to end, and starts afresh after take()', () => {
    let now = 1000;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const t = new TaskLatency();
      t.start(1, 'append');
      t.start(2, 'read');
      t.start(3, 'append');
      now += 0.04; // 40 µs
      t.end(1);
      now += 2; // 2 ms
      t.end(2);
      t.end(3);
      t.end(3); // answered twice (cannot happen) or unknown: ignored
      t.end(99);
      t.start(-1, 'retention'); // the worker's own request: not timed
      t.start(0, 'open'); // a reopen after a worker failure: not timed
      t.end(-1);
      const taken = t.take()!;
      const append = taken.find((c) => c.op === 'append')!;
      const read = taken.find((c) => c.op === 'read')!;
      expect(taken.map((c) => c.op).sort()).toEqual(['append', 'read']);
      expect(append.counts).toHaveLength(TASK_SECONDS_BUCKETS.length + 1);
      expect(append.counts.reduce((a, b) => a + b)).toBe(2);
      expect(append.counts[0]).toBe(1); // 40 µs ≤ 50 µs
      expect(append.counts[bucketIndex(TASK_SECONDS_BUCKETS, 0.00204)]).toBe(1);
      expect(append.sumSeconds).toBeCloseTo(0.00004 + 0.00204, 9);
      expect(read.counts[bucketIndex(TASK_SECONDS_BUCKETS, 0.00204)]).toBe(1);
      expect(t.take()).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
  });
});

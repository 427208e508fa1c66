import { describe, expect, it } from 'vitest';
import { PartitionSplit } from '../../../../src/router/kafka/partition-split.ts';

describe('PartitionSplit', () => {
  it('forwards what the adapter does not answer and puts every answer back in request order', () => {
    const topics = [
      { name: 'a', partitions: [0, 1, 2] },
      { name: 'b', partitions: [7] },
      { name: 'c', partitions: [3, 4] },
    ];
    const split = new PartitionSplit<number, string>(topics, (ti, pi) => {
      const p = topics[ti]!.partitions[pi]!;
      return p % 2 === 1 ? { answer: `here ${p}` } : { forward: p };
    });
    expect(split.answeredHere).toBe(true);
    expect(split.forward).toEqual([
      { topic: 'a', partitions: [0, 2] },
      { topic: 'c', partitions: [4] },
    ]);
    split.merge(split.forward.map((t) => ({ partitions: t.partitions.map((p) => `handler ${p}`) })));
    expect(split.results).toEqual([
      ['handler 0', 'here 1', 'handler 2'],
      ['here 7'],
      ['here 3', 'handler 4'],
    ]);
  });

  it('forwards everything when the adapter answers nothing', () => {
    const split = new PartitionSplit<number, number>([{ name: 't', partitions: [0, 1] }], (_, pi) => ({
      forward: pi,
    }));
    expect(split.answeredHere).toBe(false);
    expect(split.forward).toEqual([{ topic: 't', partitions: [0, 1] }]);
  });
});

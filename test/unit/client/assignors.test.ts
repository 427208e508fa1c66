/**
 * The partition assignors against results computed by hand from Kafka's algorithms (RangeAssignor,
 * RoundRobinAssignor and CooperativeStickyAssignor, including the examples in their Javadoc).
 */
import { describe, expect, it } from 'vitest';
import type { AssignorMember } from '../../../src/client/assignor.ts';
import { rebalanceProtocolOf, resolveAssignors } from '../../../src/client/built-in-assignors.ts';
import { cooperativeStickyAssignor } from '../../../src/client/cooperative-sticky-assignor.ts';
import type { TopicPartition } from '../../../src/client/fetcher.ts';
import { rangeAssignor } from '../../../src/client/range-assignor.ts';
import { roundRobinAssignor } from '../../../src/client/round-robin-assignor.ts';

function member(
  memberId: string,
  topics: string[],
  options: { owned?: string[]; generationId?: number; instance?: string } = {},
): AssignorMember {
  return {
    memberId,
    groupInstanceId: options.instance ?? null,
    topics,
    ownedPartitions: (options.owned ?? []).map(tp),
    generationId: options.generationId ?? -1,
    userData: null,
  };
}

/** 't0-2' → { topic: 't0', partition: 2 } */
function tp(s: string): TopicPartition {
  const dash = s.lastIndexOf('-');
  return { topic: s.slice(0, dash), partition: Number(s.slice(dash + 1)) };
}

/** An assignment as sorted 'topic-partition' strings per member, for comparison. */
function flat(assignment: Map<string, TopicPartition[]>): Record<string, string[]> {
  return Object.fromEntries(
    [...assignment].map(([id, list]) => [
      id,
      list
        .map((x) => `${x.topic}-${x.partition}`)
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
    ]),
  );
}

const topics = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('range', () => {
  it('gives each member a contiguous range per topic, the first members one more (Kafka Javadoc)', () => {
    const result = rangeAssignor.assign(
      [member('C1', ['t0', 't1']), member('C0', ['t0', 't1'])],
      topics({ t0: 3, t1: 3 }),
    );
    expect(flat(result)).toEqual({ C0: ['t0-0', 't0-1', 't1-0', 't1-1'], C1: ['t0-2', 't1-2'] });
  });

  it('splits 7 partitions 3/2/2 in member-id order', () => {
    const result = rangeAssignor.assign(
      [member('c', ['t']), member('a', ['t']), member('b', ['t'])],
      topics({ t: 7 }),
    );
    expect(flat(result)).toEqual({ a: ['t-0', 't-1', 't-2'], b: ['t-3', 't-4'], c: ['t-5', 't-6'] });
  });

  it('orders static members first, by instance id', () => {
    const result = rangeAssignor.assign(
      [member('a', ['t']), member('z', ['t'], { instance: 'i2' }), member('y', ['t'], { instance: 'i1' })],
      topics({ t: 3 }),
    );
    expect(flat(result)).toEqual({ y: ['t-0'], z: ['t-1'], a: ['t-2'] });
  });

  it('divides each topic among its own subscribers; members beyond the partitions get none', () => {
    const result = rangeAssignor.assign(
      [member('m1', ['t0']), member('m2', ['t0', 't1']), member('m3', ['t1', 'missing'])],
      topics({ t0: 2, t1: 1 }),
    );
    expect(flat(result)).toEqual({ m1: ['t0-0'], m2: ['t0-1', 't1-0'], m3: [] });
  });
});

describe('roundrobin', () => {
  it('deals all partitions sorted by topic and partition in member order (Kafka Javadoc)', () => {
    const result = roundRobinAssignor.assign(
      [member('C1', ['t0', 't1']), member('C0', ['t0', 't1'])],
      topics({ t0: 3, t1: 3 }),
    );
    expect(flat(result)).toEqual({ C0: ['t0-0', 't0-2', 't1-1'], C1: ['t0-1', 't1-0', 't1-2'] });
  });

  it('skips members not subscribed to the topic (Kafka Javadoc, unequal subscriptions)', () => {
    const result = roundRobinAssignor.assign(
      [member('C0', ['t0']), member('C1', ['t0', 't1']), member('C2', ['t0', 't1', 't2'])],
      topics({ t0: 1, t1: 2, t2: 3 }),
    );
    expect(flat(result)).toEqual({ C0: ['t0-0'], C1: ['t1-0'], C2: ['t1-1', 't2-0', 't2-1', 't2-2'] });
  });
});

describe('cooperative-sticky', () => {
  const six = topics({ t0: 3, t1: 3 });

  it('gives a lone member everything', () => {
    const result = cooperativeStickyAssignor.assign([member('A', ['t0', 't1'])], six);
    expect(flat(result)).toEqual({ A: ['t0-0', 't0-1', 't0-2', 't1-0', 't1-1', 't1-2'] });
  });

  it('when a member joins, the owner keeps half and the moving half is withheld until revoked', () => {
    const all = ['t0-0', 't0-1', 't0-2', 't1-0', 't1-1', 't1-2'];
    const first = cooperativeStickyAssignor.assign(
      [member('A', ['t0', 't1'], { owned: all, generationId: 1 }), member('B', ['t0', 't1'])],
      six,
    );
    // A keeps its claims sorted by (partition, topic) up to the quota: t0-0, t1-0, t0-1.
    expect(flat(first)).toEqual({ A: ['t0-0', 't0-1', 't1-0'], B: [] });
    // A revoked t0-2, t1-1, t1-2 and rejoined: now they are free and go to B.
    const second = cooperativeStickyAssignor.assign(
      [
        member('A', ['t0', 't1'], { owned: ['t0-0', 't0-1', 't1-0'], generationId: 2 }),
        member('B', ['t0', 't1'], { generationId: 2 }),
      ],
      six,
    );
    expect(flat(second)).toEqual({ A: ['t0-0', 't0-1', 't1-0'], B: ['t0-2', 't1-1', 't1-2'] });
  });

  it('fills quotas of ⌊P/C⌋ and ⌈P/C⌉ moving as little as possible', () => {
    // 7 partitions, 3 members: quotas 2 and 3, one member at 3. A (first) keeps 3, B keeps 2.
    const members = [
      member('A', ['t'], { owned: ['t-0', 't-1', 't-2', 't-3'], generationId: 4 }),
      member('B', ['t'], { owned: ['t-4', 't-5', 't-6'], generationId: 4 }),
      member('C', ['t']),
    ];
    expect(flat(cooperativeStickyAssignor.assign(members, topics({ t: 7 })))).toEqual({
      A: ['t-0', 't-1', 't-2'],
      B: ['t-4', 't-5'],
      C: [], // t-3 and t-6 go to C once A and B have revoked them
    });
    const next = [
      member('A', ['t'], { owned: ['t-0', 't-1', 't-2'], generationId: 5 }),
      member('B', ['t'], { owned: ['t-4', 't-5'], generationId: 5 }),
      member('C', ['t'], { generationId: 5 }),
    ];
    expect(flat(cooperativeStickyAssignor.assign(next, topics({ t: 7 })))).toEqual({
      A: ['t-0', 't-1', 't-2'],
      B: ['t-4', 't-5'],
      C: ['t-3', 't-6'],
    });
  });

  it('ignores claims from older generations and partitions claimed twice', () => {
    const stale = cooperativeStickyAssignor.assign(
      [
        member('A', ['t'], { owned: ['t-0', 't-1'], generationId: 3 }),
        member('B', ['t'], { owned: ['t-2'], generationId: 4 }),
      ],
      topics({ t: 4 }),
    );
    // Only B's claim counts: A is under quota with nothing, B keeps t-2. Free t-0, t-1, t-3 are dealt
    // A, B (now full), A. A's stale claim on t-1 still keeps it from B this round (A revokes it).
    expect(flat(stale)).toEqual({ A: ['t-0', 't-3'], B: ['t-2'] });
    const doubly = cooperativeStickyAssignor.assign(
      [
        member('A', ['t'], { owned: ['t-0', 't-1'], generationId: 4 }),
        member('B', ['t'], { owned: ['t-1'], generationId: 4 }),
      ],
      topics({ t: 2 }),
    );
    // t-1 is nobody's claim, so it is dealt afresh (to B, under quota); B's own claim on it lets B
    // keep it (Kafka withholds only partitions a member did not claim), and A revokes it.
    expect(flat(doubly)).toEqual({ A: ['t-0'], B: ['t-1'] });
  });

  it('balances unequal subscriptions and keeps claims', () => {
    const result = cooperativeStickyAssignor.assign(
      [member('A', ['t0', 't1'], { owned: ['t1-0', 't1-1', 't1-2'], generationId: 1 }), member('B', ['t0'])],
      topics({ t0: 2, t1: 3 }),
    );
    // t0 can go to both, t1 only to A: B takes the two t0 partitions, A keeps t1.
    expect(flat(result)).toEqual({ A: ['t1-0', 't1-1', 't1-2'], B: ['t0-0', 't0-1'] });
  });
});

describe('assignor options', () => {
  it('resolves names, rejects unknown ones, and picks cooperative only when every assignor is', () => {
    expect(resolveAssignors(['range', 'roundrobin']).map((a) => a.name)).toEqual(['range', 'roundrobin']);
    expect(() => resolveAssignors(['sticky' as never])).toThrow(/unknown assignor/);
    expect(rebalanceProtocolOf(resolveAssignors(['cooperative-sticky']))).toBe('cooperative');
    expect(rebalanceProtocolOf(resolveAssignors(['cooperative-sticky', 'range']))).toBe('eager');
  });
});

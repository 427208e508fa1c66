/**
 * Kafka's RangeAssignor (`range`, librdkafka's default): topic by topic, the members subscribed to the
 * topic in member order each take a contiguous range of its partitions; with P partitions and C
 * members, each takes ⌊P/C⌋ and the first P mod C take one more. Member i starts at
 * i·⌊P/C⌋ + min(i, P mod C). Topics are independent, so the first members get the extra partitions of
 * every topic (the known imbalance of range with many topics).
 */
import {
  type Assignor,
  type AssignorMember,
  compareMembers,
  compareStrings,
  emptyAssignment,
} from './assignor.ts';
import type { TopicPartition } from './fetcher.ts';

export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>) {
    const assignment = emptyAssignment(members);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compareStrings);
    for (const topic of topics) {
      const partitions = partitionsPerTopic.get(topic);
      if (partitions === undefined) continue;
      const consumers = members.filter((m) => m.topics.includes(topic)).sort(compareMembers);
      const per = Math.floor(partitions / consumers.length);
      const extra = partitions % consumers.length;
      consumers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        const list: TopicPartition[] = assignment.get(m.memberId)!;
        for (let p = start; p < start + length; p++) list.push({ topic, partition: p });
      });
    }
    return assignment;
  },
};

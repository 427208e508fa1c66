/**
 * Kafka's RoundRobinAssignor (`roundrobin`): every partition of every subscribed topic, sorted by
 * topic then partition, is dealt to the members in member order, going round; a member not
 * subscribed to the partition's topic is skipped (the deal moves on to the next member that is).
 */
import {
  type Assignor,
  type AssignorMember,
  allPartitionsSorted,
  compareMembers,
  emptyAssignment,
} from './assignor.ts';

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>) {
    const assignment = emptyAssignment(members);
    const ring = [...members].sort(compareMembers);
    let next = 0;
    for (const tp of allPartitionsSorted(members, partitionsPerTopic)) {
      // Some member is subscribed to every listed topic, so this ends within one turn of the ring.
      while (!ring[next % ring.length]!.topics.includes(tp.topic)) next++;
      assignment.get(ring[next % ring.length]!.memberId)!.push(tp);
      next++;
    }
    return assignment;
  },
};

/**
 * Consumer-group metrics, computed at scrape time from the group coordinator's state: members per
 * group, groups per state, committed offsets and lag. Lag is the partition's log end offset (the
 * engine's cached high watermark, updated with every append) minus the group's committed offset,
 * never below 0; partitions the group never committed have no lag series (as kafka-consumer-groups
 * shows "-"). Rebalances are counted as the coordinator announces them.
 *
 * Main thread only.
 */
import type { GroupCoordinator } from '../coordinator/group-coordinator.ts';
import { GroupState } from '../coordinator/types.ts';
import type { Instruments } from './instruments.ts';

export type GroupSource = Pick<GroupCoordinator, 'memberCounts' | 'offsetFetch' | 'listGroups' | 'on'>;

/** Where lag reads log end offsets (PartitionEngine.highWatermark). */
export type EndOffsets = (topic: string, partition: number) => number | undefined;

const LIVE_STATES = [
  GroupState.Empty,
  GroupState.PreparingRebalance,
  GroupState.CompletingRebalance,
  GroupState.Stable,
] as const;

export class GroupCollector {
  /** Groups with a rebalance series, to drop it once the group is gone. */
  private readonly rebalanceSeries = new Set<string>();

  constructor(
    private readonly m: Instruments,
    private readonly coordinator: GroupSource,
    private readonly endOffset: EndOffsets,
    private readonly partitionLabels: boolean,
  ) {
    coordinator.on('rebalanced', (group) => {
      this.rebalanceSeries.add(group);
      m.groupRebalances.inc({ group });
    });
  }

  refresh(): void {
    const m = this.m;
    m.groupMembers.reset();
    m.groupLag.reset();
    m.groupCommitted.reset();
    m.groupsByState.reset();
    for (const state of LIVE_STATES) m.groupsByState.set({ state }, 0);
    for (const g of this.coordinator.listGroups()) m.groupsByState.inc({ state: g.state });

    const counts = this.coordinator.memberCounts();
    for (const [group, members] of counts) {
      m.groupMembers.set({ group }, members);
      if (!this.rebalanceSeries.has(group)) {
        this.rebalanceSeries.add(group);
        m.groupRebalances.inc({ group }, 0);
      }
      const committed = this.coordinator.offsetFetch({ groupId: group, topics: null });
      for (const t of committed.topics) {
        for (const p of t.partitions) {
          if (p.offset < 0) continue;
          const end = this.endOffset(t.name, p.partition);
          if (end === undefined) continue; // partition not open (topic being deleted)
          const labels = this.partitionLabels
            ? { group, topic: t.name, partition: String(p.partition) }
            : { group, topic: t.name };
          // inc: without partition labels, partitions of a topic add up.
          m.groupLag.inc(labels, Math.max(0, end - p.offset));
          m.groupCommitted.inc(labels, p.offset);
        }
      }
    }
    for (const group of this.rebalanceSeries) {
      if (!counts.has(group)) {
        this.rebalanceSeries.delete(group);
        m.groupRebalances.remove({ group });
      }
    }
  }
}

/**
 * The group coordinator: Kafka's classic consumer-group protocol, protocol-neutral (both front
 * doors call it), on the main thread. Membership (join with MEMBER_ID_REQUIRED, sync, heartbeat,
 * leave, session expiry, rebalance timeout, initial rebalance delay, static membership, generation
 * fencing) lives in group-membership.ts; this file adds offsets (commit, fetch), the admin views
 * (describe, list, delete) and the start-up load from `__consumer_offsets`.
 *
 * Nothing here blocks: every wait (a JoinGroup until the rebalance completes, a follower's SyncGroup
 * until the leader's) is a pending promise resolved by another request or a timer.
 */
import type { TopicManager } from '../broker/topic-manager.ts';
import { type ErrorCode, toErrorData } from '../errors.ts';
import type { PartitionEngine } from '../router/partition-engine.ts';
import { Group } from './group.ts';
import { type CoordinatorConfig, GroupMembership } from './group-membership.ts';
import { OffsetStore } from './offset-store.ts';
import {
  type DescribedGroup,
  GroupState,
  type ListedGroup,
  type OffsetCommitRequest,
  type OffsetCommitResult,
  type OffsetFetchRequest,
  type OffsetFetchResult,
} from './types.ts';

export type { CoordinatorConfig } from './group-membership.ts';

export class GroupCoordinator extends GroupMembership {
  private readonly topics: TopicManager;
  private readonly sweeper: NodeJS.Timeout;

  private constructor(store: OffsetStore, topics: TopicManager, config: CoordinatorConfig) {
    super(store, config);
    this.topics = topics;
    topics.on('deleted', (topic) => {
      this.store.removeTopic(topic).catch((err: unknown) => this.emit('error', err));
    });
    this.sweeper = setInterval(
      () => void this.expireOffsets(),
      Math.min(config.offsetsRetentionCheckIntervalMs, 2 ** 31 - 1),
    );
    this.sweeper.unref();
  }

  /** Create `__consumer_offsets` if needed, load every committed offset and stored group. */
  static async start(
    engine: PartitionEngine,
    topics: TopicManager,
    config: CoordinatorConfig,
  ): Promise<GroupCoordinator> {
    const store = new OffsetStore(engine, topics, config.offsetsTopicPartitions);
    const stored = await store.load();
    const coordinator = new GroupCoordinator(store, topics, config);
    for (const [groupId, meta] of stored) coordinator.restore(groupId, meta);
    // Groups known only by their offsets (simple commits, or metadata lost): Empty groups.
    for (const groupId of store.groups())
      if (!coordinator.groups.has(groupId)) coordinator.groups.set(groupId, new Group(groupId));
    return coordinator;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.stopTimers();
  }

  /** The committed offset of one partition (for lag), or undefined. */
  committed(groupId: string, topic: string, partition: number) {
    return this.store.get(groupId, topic, partition);
  }

  async offsetCommit(req: OffsetCommitRequest): Promise<OffsetCommitResult> {
    const everywhere = (error: ErrorCode): OffsetCommitResult => ({
      error,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partition, error })),
      })),
    });
    if (!req.groupId) return everywhere('INVALID_GROUP_ID');
    let group = this.groups.get(req.groupId);
    const simple = req.generationId < 0 && req.memberId === '' && req.groupInstanceId === null;
    if (simple) {
      // An admin commit (e.g. offsets reset): only while the group has no members.
      if (group && !group.isEmpty) return everywhere('UNKNOWN_MEMBER_ID');
    } else {
      if (!group) return everywhere('ILLEGAL_GENERATION');
      if (group.state === GroupState.Dead) return everywhere('COORDINATOR_NOT_AVAILABLE');
      const memberError = group.memberError(req.memberId, req.groupInstanceId);
      if (memberError) return everywhere(memberError);
      if (req.generationId !== group.generationId) return everywhere('ILLEGAL_GENERATION');
      if (group.state === GroupState.CompletingRebalance) return everywhere('REBALANCE_IN_PROGRESS');
      this.heartbeatOf(group, req.memberId);
    }
    const accepted: {
      topic: string;
      partition: number;
      offset: number;
      leaderEpoch: number;
      metadata: string;
    }[] = [];
    const results = req.topics.map((t) => {
      const topic = this.topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p): { partition: number; error?: ErrorCode } => {
          if (!topic || p.partition < 0 || p.partition >= topic.partitions) {
            return { partition: p.partition, error: 'UNKNOWN_TOPIC_OR_PARTITION' };
          }
          const metadata = p.metadata ?? '';
          if (Buffer.byteLength(metadata) > this.config.offsetMetadataMaxBytes) {
            return { partition: p.partition, error: 'OFFSET_METADATA_TOO_LARGE' };
          }
          accepted.push({
            topic: t.name,
            partition: p.partition,
            offset: p.offset,
            leaderEpoch: p.leaderEpoch,
            metadata,
          });
          return { partition: p.partition };
        }),
      };
    });
    if (accepted.length > 0) {
      try {
        await this.store.commit(req.groupId, accepted);
      } catch (err) {
        const error = toErrorData(err).code;
        for (const t of results) for (const p of t.partitions) p.error ??= error;
        return { topics: results };
      }
      group ??= this.groups.get(req.groupId);
      if (!group) this.groups.set(req.groupId, new Group(req.groupId));
    }
    return { topics: results };
  }

  offsetFetch(req: OffsetFetchRequest): OffsetFetchResult {
    if (!req.groupId) return { error: 'INVALID_GROUP_ID', topics: [] };
    const none = { offset: -1, leaderEpoch: -1, metadata: '' };
    if (req.topics === null) {
      const byTopic = new Map<string, OffsetFetchResult['topics'][number]>();
      for (const o of this.store.all(req.groupId)) {
        let t = byTopic.get(o.topic);
        if (!t) byTopic.set(o.topic, (t = { name: o.topic, partitions: [] }));
        t.partitions.push({
          partition: o.partition,
          offset: o.offset,
          leaderEpoch: o.leaderEpoch,
          metadata: o.metadata,
        });
      }
      for (const t of byTopic.values()) t.partitions.sort((a, b) => a.partition - b.partition);
      return { topics: [...byTopic.values()].sort((a, b) => a.name.localeCompare(b.name)) };
    }
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((partition) => {
          const c = this.store.get(req.groupId, t.name, partition);
          return {
            partition,
            ...(c ? { offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata } : none),
          };
        }),
      })),
    };
  }

  describeGroups(groupIds: string[]): DescribedGroup[] {
    return groupIds.map((groupId) => {
      const group = this.groups.get(groupId);
      if (!group) {
        // Kafka describes an unknown group as Dead, without an error.
        return {
          groupId,
          state: GroupState.Dead,
          protocolType: '',
          protocolName: '',
          generationId: -1,
          leader: '',
          members: [],
        };
      }
      const stable = group.state === GroupState.Stable;
      return {
        groupId,
        state: group.state,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        generationId: group.generationId,
        leader: group.leaderId,
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          metadata: group.metadataFor(m),
          // Assignments are only meaningful once the generation is Stable (as Kafka reports them).
          assignment: stable ? m.assignment : new Uint8Array(0),
        })),
      };
    });
  }

  listGroups(states?: string[]): ListedGroup[] {
    const filter = states && states.length > 0 ? new Set(states.map((s) => s.toLowerCase())) : undefined;
    return [...this.groups.values()]
      .filter((g) => g.state !== GroupState.Dead && (!filter || filter.has(g.state.toLowerCase())))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.state }))
      .sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; error?: ErrorCode }[]> {
    return Promise.all(
      groupIds.map(async (groupId): Promise<{ groupId: string; error?: ErrorCode }> => {
        if (!groupId) return { groupId, error: 'INVALID_GROUP_ID' };
        const group = this.groups.get(groupId);
        if (!group) return { groupId, error: 'GROUP_ID_NOT_FOUND' };
        if (!group.isEmpty || group.state !== GroupState.Empty) return { groupId, error: 'NON_EMPTY_GROUP' };
        group.transition(GroupState.Dead);
        this.groups.delete(groupId);
        try {
          await this.store.deleteGroup(groupId);
          return { groupId };
        } catch (err) {
          return { groupId, error: toErrorData(err).code };
        }
      }),
    );
  }

  /** Offsets of groups that have been empty for offsets.retention.minutes expire (Kafka's rule). */
  private async expireOffsets(): Promise<void> {
    const now = Date.now();
    const retention = this.config.offsetsRetentionMs;
    for (const group of [...this.groups.values()]) {
      if (group.state !== GroupState.Empty || now - group.stateTimestamp <= retention) continue;
      try {
        await this.store.expire(group.groupId, now, retention);
        if (this.store.all(group.groupId).length === 0 && group.isEmpty && group.pendingMembers.size === 0) {
          this.groups.delete(group.groupId);
          await this.store.storeGroup(group.groupId, null);
        }
      } catch (err) {
        this.emit('error', err);
      }
    }
  }
}

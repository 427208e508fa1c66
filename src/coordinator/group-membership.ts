/**
 * Group membership: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the timers that drive a
 * rebalance (Kafka's ClassicGroup rules; see group.ts for the state machine).
 *
 * - A first join without a member id gets MEMBER_ID_REQUIRED and an id (`<clientId>-<uuid>`) when the
 *   client asks for that (Kafka JoinGroup v4+); the id is pending until it joins again or its session
 *   timeout passes.
 * - A rebalance (PreparingRebalance) completes when every member has rejoined, or when the rebalance
 *   timeout (the largest of the members') passes — then members that did not rejoin are dropped. The
 *   first rebalance of an empty group waits group.initial.rebalance.delay.ms, extended (up to the
 *   rebalance timeout) while new members keep arriving.
 * - Completing a join starts the next generation: the protocol is chosen by vote, the leader gets
 *   every member's metadata, the group waits in CompletingRebalance for the leader's SyncGroup, whose
 *   assignments are handed to every member; then the group is Stable and persisted.
 * - Members that stop heartbeating are expelled after their session timeout (a member waiting in
 *   JoinGroup or SyncGroup is alive). Stale generations get ILLEGAL_GENERATION, unknown members
 *   UNKNOWN_MEMBER_ID, heartbeats during a rebalance REBALANCE_IN_PROGRESS (the cue to rejoin).
 * - Static members (group.instance.id) keep their place across restarts: rejoining with a new member
 *   id replaces the old one (which is then FENCED_INSTANCE_ID), without a rebalance when nothing changed.
 *
 * Main thread only.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ErrorCode } from '../errors.ts';
import { EMPTY_BYTES, Group, type Member } from './group.ts';
import type { OffsetStore, StoredGroup } from './offset-store.ts';
import {
  type GroupProtocol,
  GroupState,
  type HeartbeatRequest,
  type JoinGroupRequest,
  type JoinGroupResult,
  type LeaveGroupRequest,
  type LeaveGroupResult,
  type SyncGroupRequest,
  type SyncGroupResult,
} from './types.ts';

export interface CoordinatorConfig {
  /** group.min.session.timeout.ms / group.max.session.timeout.ms */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** offset.metadata.max.bytes */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes, in ms */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
  /** offsets.topic.num.partitions */
  offsetsTopicPartitions: number;
}

export interface CoordinatorEvents {
  /** A generation completed its join phase. */
  rebalanced: [groupId: string, generationId: number, members: number];
  error: [err: unknown];
}

function sameProtocols(a: GroupProtocol[], b: GroupProtocol[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => {
    const q = b[i]!;
    return p.name === q.name && Buffer.from(p.metadata).equals(Buffer.from(q.metadata));
  });
}

function failedJoin(error: ErrorCode, memberId: string): JoinGroupResult {
  return {
    error,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    members: [],
  };
}

function failedSync(error: ErrorCode): SyncGroupResult {
  return { error, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export class GroupMembership extends EventEmitter<CoordinatorEvents> {
  protected readonly groups = new Map<string, Group>();
  protected readonly store: OffsetStore;
  protected readonly config: CoordinatorConfig;
  /** Groups whose initial delay has not yet passed (they must not complete their join before it). */
  private readonly delaying = new Set<Group>();
  private readonly newMemberAdded = new Set<Group>();

  protected constructor(store: OffsetStore, config: CoordinatorConfig) {
    super();
    this.store = store;
    this.config = config;
  }

  /** Members per group (for metrics). */
  memberCounts(): Map<string, number> {
    return new Map([...this.groups.values()].map((g) => [g.groupId, g.members.size]));
  }

  joinGroup(req: JoinGroupRequest): Promise<JoinGroupResult> {
    if (!req.groupId) return Promise.resolve(failedJoin('INVALID_GROUP_ID', req.memberId));
    if (
      req.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    ) {
      return Promise.resolve(failedJoin('INVALID_SESSION_TIMEOUT', req.memberId));
    }
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (req.memberId !== '') return Promise.resolve(failedJoin('UNKNOWN_MEMBER_ID', req.memberId));
      group = new Group(req.groupId);
      this.groups.set(req.groupId, group);
    }
    if (group.state === GroupState.Dead)
      return Promise.resolve(failedJoin('COORDINATOR_NOT_AVAILABLE', req.memberId));
    if (!group.supportsProtocols(req.protocolType, req.protocols, req.memberId)) {
      return Promise.resolve(failedJoin('INCONSISTENT_GROUP_PROTOCOL', req.memberId));
    }
    const g = group;
    return new Promise((resolve) => {
      if (req.memberId === '') this.newMemberJoin(g, req, resolve);
      else this.currentMemberJoin(g, req, resolve);
    });
  }

  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResult> {
    const group = this.groups.get(req.groupId);
    if (!group) return Promise.resolve(failedSync('UNKNOWN_MEMBER_ID'));
    if (group.state === GroupState.Dead) return Promise.resolve(failedSync('COORDINATOR_NOT_AVAILABLE'));
    const memberError = group.memberError(req.memberId, req.groupInstanceId);
    if (memberError) return Promise.resolve(failedSync(memberError));
    if (req.generationId !== group.generationId) return Promise.resolve(failedSync('ILLEGAL_GENERATION'));
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocolName)
    ) {
      return Promise.resolve(failedSync('INCONSISTENT_GROUP_PROTOCOL'));
    }
    const member = group.members.get(req.memberId)!;
    switch (group.state) {
      case GroupState.PreparingRebalance:
        return Promise.resolve(failedSync('REBALANCE_IN_PROGRESS'));
      case GroupState.Stable:
        this.armHeartbeat(group, member);
        return Promise.resolve(this.syncResult(group, member));
      case GroupState.CompletingRebalance:
        return new Promise((resolve) => {
          member.awaitingSync?.(failedSync('REBALANCE_IN_PROGRESS'));
          member.awaitingSync = resolve;
          this.armHeartbeat(group, member);
          if (member.memberId === group.leaderId) {
            const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
            for (const m of group.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY_BYTES;
            group.transition(GroupState.Stable);
            this.persist(group);
            for (const m of group.members.values()) {
              const callback = m.awaitingSync;
              m.awaitingSync = undefined;
              callback?.(this.syncResult(group, m));
            }
          }
        });
      default:
        return Promise.resolve(failedSync('UNKNOWN_MEMBER_ID'));
    }
  }

  heartbeat(req: HeartbeatRequest): { error?: ErrorCode } {
    const group = this.groups.get(req.groupId);
    if (!group) return { error: 'UNKNOWN_MEMBER_ID' };
    if (group.state === GroupState.Dead) return { error: 'COORDINATOR_NOT_AVAILABLE' };
    const memberError = group.memberError(req.memberId, req.groupInstanceId);
    if (memberError) return { error: memberError };
    if (req.generationId !== group.generationId) return { error: 'ILLEGAL_GENERATION' };
    this.armHeartbeat(group, group.members.get(req.memberId)!);
    if (group.state === GroupState.PreparingRebalance) return { error: 'REBALANCE_IN_PROGRESS' };
    return {};
  }

  leaveGroup(req: LeaveGroupRequest): LeaveGroupResult {
    const group = this.groups.get(req.groupId);
    const members = req.members.map(({ memberId, groupInstanceId }) => {
      const result = (error?: ErrorCode) => ({ memberId, groupInstanceId, ...(error && { error }) });
      if (!group) return result('UNKNOWN_MEMBER_ID');
      const pending = group.pendingMembers.get(memberId);
      if (pending) {
        clearTimeout(pending);
        group.pendingMembers.delete(memberId);
        this.checkJoinComplete(group);
        return result();
      }
      let id = memberId;
      if (groupInstanceId !== null) {
        const current = group.staticMembers.get(groupInstanceId);
        if (current === undefined) return result('UNKNOWN_MEMBER_ID');
        if (memberId !== '' && memberId !== current) return result('FENCED_INSTANCE_ID');
        id = current;
      }
      const member = group.members.get(id);
      if (!member) return result('UNKNOWN_MEMBER_ID');
      this.removeMemberAndUpdateGroup(group, member);
      return result();
    });
    return { members };
  }

  /** A committed offset from a member counts as a sign of life. */
  protected heartbeatOf(group: Group, memberId: string): void {
    const member = group.members.get(memberId);
    if (member) this.armHeartbeat(group, member);
  }

  /** Rebuild a group from its stored metadata at start-up: members get a fresh session to heartbeat. */
  protected restore(groupId: string, stored: StoredGroup): void {
    const group = new Group(groupId);
    group.generationId = stored.generationId;
    group.protocolType = stored.protocolType;
    group.protocolName = stored.protocolName;
    group.leaderId = stored.leader;
    group.stateTimestamp = stored.stateTimestamp;
    for (const m of stored.members) {
      const member: Member = {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        protocolType: stored.protocolType,
        protocols: [{ name: stored.protocolName, metadata: m.metadata }],
        assignment: m.assignment,
        awaitingJoin: undefined,
        awaitingSync: undefined,
        heartbeatTimer: undefined,
        isNew: false,
      };
      group.members.set(m.memberId, member);
      if (m.groupInstanceId !== null) group.staticMembers.set(m.groupInstanceId, m.memberId);
      this.armHeartbeat(group, member);
    }
    group.state = group.members.size > 0 ? GroupState.Stable : GroupState.Empty;
    this.groups.set(groupId, group);
  }

  protected stopTimers(): void {
    for (const g of this.groups.values()) {
      clearTimeout(g.joinTimer);
      for (const t of g.pendingMembers.values()) clearTimeout(t);
      for (const m of g.members.values()) clearTimeout(m.heartbeatTimer);
    }
  }

  private newMemberJoin(group: Group, req: JoinGroupRequest, resolve: (r: JoinGroupResult) => void): void {
    const memberId = `${req.clientId || 'member'}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      this.staticMemberJoin(group, req, memberId, resolve);
      return;
    }
    if (req.requireKnownMemberId) {
      const timer = setTimeout(() => {
        group.pendingMembers.delete(memberId);
        this.checkJoinComplete(group);
        this.maybeForget(group);
      }, req.sessionTimeoutMs);
      timer.unref();
      group.pendingMembers.set(memberId, timer);
      resolve(failedJoin('MEMBER_ID_REQUIRED', memberId));
      return;
    }
    this.addMemberAndRebalance(group, req, memberId, resolve);
  }

  private currentMemberJoin(
    group: Group,
    req: JoinGroupRequest,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    const pending = group.pendingMembers.get(req.memberId);
    if (pending) {
      clearTimeout(pending);
      group.pendingMembers.delete(req.memberId);
      this.addMemberAndRebalance(group, req, req.memberId, resolve);
      return;
    }
    const memberError = group.memberError(req.memberId, req.groupInstanceId);
    if (memberError) {
      resolve(failedJoin(memberError, req.memberId));
      return;
    }
    const member = group.members.get(req.memberId)!;
    const unchanged = sameProtocols(member.protocols, req.protocols);
    switch (group.state) {
      case GroupState.PreparingRebalance:
        this.updateMemberAndRebalance(group, member, req, resolve);
        return;
      case GroupState.CompletingRebalance:
        // A member resending its join for the generation in progress gets the same answer again.
        if (unchanged) resolve(this.joinResult(group, member));
        else this.updateMemberAndRebalance(group, member, req, resolve);
        return;
      case GroupState.Stable:
        // The leader rejoining (e.g. its subscription changed topics' partitions) or changed
        // metadata starts a rebalance; a follower rejoining unchanged just gets the current generation.
        if (member.memberId === group.leaderId || !unchanged)
          this.updateMemberAndRebalance(group, member, req, resolve);
        else {
          this.armHeartbeat(group, member);
          resolve(this.joinResult(group, member));
        }
        return;
      default:
        resolve(failedJoin('UNKNOWN_MEMBER_ID', req.memberId));
    }
  }

  private staticMemberJoin(
    group: Group,
    req: JoinGroupRequest,
    memberId: string,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    const instanceId = req.groupInstanceId!;
    const oldId = group.staticMembers.get(instanceId);
    const old = oldId === undefined ? undefined : group.members.get(oldId);
    if (!old) {
      this.addMemberAndRebalance(group, req, memberId, resolve);
      return;
    }
    // The instance came back with a new member id: it replaces (fences) its old id.
    old.awaitingJoin?.(failedJoin('FENCED_INSTANCE_ID', old.memberId));
    old.awaitingSync?.(failedSync('FENCED_INSTANCE_ID'));
    clearTimeout(old.heartbeatTimer);
    group.members.delete(old.memberId);
    const member: Member = {
      ...old,
      memberId,
      awaitingJoin: undefined,
      awaitingSync: undefined,
      heartbeatTimer: undefined,
    };
    group.members.set(memberId, member);
    group.staticMembers.set(instanceId, memberId);
    if (group.leaderId === old.memberId) group.leaderId = memberId;
    if (group.state === GroupState.Stable && sameProtocols(old.protocols, req.protocols)) {
      this.armHeartbeat(group, member);
      this.persist(group);
      resolve(this.joinResult(group, member));
    } else {
      this.updateMemberAndRebalance(group, member, req, resolve);
    }
  }

  private addMemberAndRebalance(
    group: Group,
    req: JoinGroupRequest,
    memberId: string,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    if (group.isEmpty) group.protocolType = req.protocolType;
    const member: Member = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY_BYTES,
      awaitingJoin: resolve,
      awaitingSync: undefined,
      heartbeatTimer: undefined,
      isNew: true,
    };
    group.members.set(memberId, member);
    if (req.groupInstanceId !== null) group.staticMembers.set(req.groupInstanceId, memberId);
    if (!group.has(group.leaderId)) group.leaderId = memberId;
    this.newMemberAdded.add(group);
    this.armHeartbeat(group, member);
    this.maybePrepareRebalance(group);
  }

  private updateMemberAndRebalance(
    group: Group,
    member: Member,
    req: JoinGroupRequest,
    resolve: (r: JoinGroupResult) => void,
  ): void {
    member.awaitingJoin?.(failedJoin('REBALANCE_IN_PROGRESS', member.memberId));
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    member.awaitingJoin = resolve;
    this.armHeartbeat(group, member);
    this.maybePrepareRebalance(group);
  }

  private maybePrepareRebalance(group: Group): void {
    if (group.state === GroupState.PreparingRebalance) this.checkJoinComplete(group);
    else this.prepareRebalance(group);
  }

  private prepareRebalance(group: Group): void {
    if (group.state === GroupState.CompletingRebalance) {
      // Members waiting for the leader's assignment must rejoin instead.
      for (const m of group.members.values()) {
        m.assignment = EMPTY_BYTES;
        const callback = m.awaitingSync;
        m.awaitingSync = undefined;
        callback?.(failedSync('REBALANCE_IN_PROGRESS'));
      }
    }
    const wasEmpty = group.state === GroupState.Empty;
    group.transition(GroupState.PreparingRebalance);
    clearTimeout(group.joinTimer);
    const delay = this.config.initialRebalanceDelayMs;
    if (wasEmpty && delay > 0) {
      this.delaying.add(group);
      this.newMemberAdded.delete(group);
      this.initialDelay(
        group,
        Math.min(delay, group.rebalanceTimeoutMs),
        Math.max(group.rebalanceTimeoutMs - delay, 0),
      );
      return;
    }
    group.joinTimer = setTimeout(() => this.onJoinTimeout(group), group.rebalanceTimeoutMs);
    group.joinTimer.unref();
    this.checkJoinComplete(group);
  }

  /** KIP-134: wait `delayMs`; if members kept arriving, wait again, until the rebalance timeout is used up. */
  private initialDelay(group: Group, delayMs: number, remainingMs: number): void {
    group.joinTimer = setTimeout(() => {
      if (this.newMemberAdded.has(group) && remainingMs > 0) {
        this.newMemberAdded.delete(group);
        const next = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
        this.initialDelay(group, next, Math.max(remainingMs - this.config.initialRebalanceDelayMs, 0));
        return;
      }
      this.delaying.delete(group);
      this.completeJoin(group);
    }, delayMs);
    group.joinTimer.unref();
  }

  private checkJoinComplete(group: Group): void {
    if (group.state !== GroupState.PreparingRebalance || this.delaying.has(group)) return;
    if (group.allMembersJoined) this.completeJoin(group);
  }

  private onJoinTimeout(group: Group): void {
    if (group.state !== GroupState.PreparingRebalance) return;
    for (const t of group.pendingMembers.values()) clearTimeout(t);
    group.pendingMembers.clear();
    this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    clearTimeout(group.joinTimer);
    group.joinTimer = undefined;
    this.delaying.delete(group);
    // Members that did not rejoin in time are out.
    for (const m of [...group.members.values()]) if (!m.awaitingJoin) this.removeMember(group, m);
    group.generationId++;
    if (group.isEmpty) {
      group.protocolName = '';
      group.leaderId = '';
      group.transition(GroupState.Empty);
      this.persist(group);
      this.emit('rebalanced', group.groupId, group.generationId, 0);
      this.maybeForget(group);
      return;
    }
    if (!group.has(group.leaderId)) group.leaderId = group.members.keys().next().value!;
    group.protocolName = group.selectProtocol();
    group.transition(GroupState.CompletingRebalance);
    for (const m of group.members.values()) {
      const callback = m.awaitingJoin!;
      m.awaitingJoin = undefined;
      m.isNew = false;
      this.armHeartbeat(group, m);
      callback(this.joinResult(group, m));
    }
    this.emit('rebalanced', group.groupId, group.generationId, group.members.size);
  }

  private joinResult(group: Group, member: Member): JoinGroupResult {
    const isLeader = member.memberId === group.leaderId;
    return {
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId,
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: group.metadataFor(m),
          }))
        : [],
    };
  }

  private syncResult(group: Group, member: Member): SyncGroupResult {
    return {
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment: member.assignment,
    };
  }

  private armHeartbeat(group: Group, member: Member): void {
    clearTimeout(member.heartbeatTimer);
    member.heartbeatTimer = setTimeout(() => this.onSessionExpired(group, member), member.sessionTimeoutMs);
    member.heartbeatTimer.unref();
  }

  private onSessionExpired(group: Group, member: Member): void {
    if (group.members.get(member.memberId) !== member) return;
    // Waiting in JoinGroup or SyncGroup counts as alive: the rebalance and session rules take over.
    if (member.awaitingJoin || member.awaitingSync) {
      this.armHeartbeat(group, member);
      return;
    }
    this.removeMemberAndUpdateGroup(group, member);
  }

  private removeMember(group: Group, member: Member): void {
    clearTimeout(member.heartbeatTimer);
    group.members.delete(member.memberId);
    if (
      member.groupInstanceId !== null &&
      group.staticMembers.get(member.groupInstanceId) === member.memberId
    ) {
      group.staticMembers.delete(member.groupInstanceId);
    }
    member.awaitingJoin?.(failedJoin('UNKNOWN_MEMBER_ID', member.memberId));
    member.awaitingSync?.(failedSync('UNKNOWN_MEMBER_ID'));
    member.awaitingJoin = undefined;
    member.awaitingSync = undefined;
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member): void {
    this.removeMember(group, member);
    if (group.state === GroupState.Stable || group.state === GroupState.CompletingRebalance)
      this.prepareRebalance(group);
    else if (group.state === GroupState.PreparingRebalance) this.checkJoinComplete(group);
  }

  /** Persist the group's metadata (asynchronously; the log keeps the order of writes). */
  private persist(group: Group): void {
    const stored: StoredGroup = {
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      generationId: group.generationId,
      leader: group.leaderId,
      stateTimestamp: group.stateTimestamp,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        metadata: group.metadataFor(m),
        assignment: m.assignment,
      })),
    };
    this.store.storeGroup(group.groupId, stored).catch((err: unknown) => this.emit('error', err));
  }

  /**
   * A group that never completed a join (e.g. a member id handed out by MEMBER_ID_REQUIRED that
   * never came back) and has no offsets is not kept. Groups that had a generation stay, Empty, as in
   * Kafka, until their offsets expire.
   */
  private maybeForget(group: Group): void {
    if (
      group.generationId === 0 &&
      group.isEmpty &&
      group.pendingMembers.size === 0 &&
      group.state === GroupState.Empty &&
      this.store.all(group.groupId).length === 0
    ) {
      this.groups.delete(group.groupId);
    }
  }
}

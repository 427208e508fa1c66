/**
 * One consumer group's in-memory state (Kafka's ClassicGroup): members, generation, chosen protocol,
 * leader, and the callbacks of members waiting in JoinGroup or SyncGroup. Pure state and the rules
 * that only read it (protocol support, protocol vote); the transitions live in group-coordinator.ts.
 *
 * State machine:
 *   Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance ──leader sync──▶ Stable
 *     ▲                   ▲  (no members left)      │                                  │
 *     └───────────────────┴────────────────────────┴───── member joins, leaves, expires ┘
 *   Dead: deleted (DeleteGroups) or unloaded.
 *
 * Main thread only.
 */
import type { ErrorCode } from '../errors.ts';
import { type GroupProtocol, GroupState, type JoinGroupResult, type SyncGroupResult } from './types.ts';

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  /** This member's assignment for the current generation (empty until the leader's SyncGroup). */
  assignment: Uint8Array;
  /** Set while the member waits in JoinGroup for the rebalance to complete. */
  awaitingJoin: ((result: JoinGroupResult) => void) | undefined;
  /** Set while the member waits in SyncGroup for the leader's assignments. */
  awaitingSync: ((result: SyncGroupResult) => void) | undefined;
  /** Session expiry timer (re-armed by every heartbeat, join and sync). */
  heartbeatTimer: NodeJS.Timeout | undefined;
  /** Joined in the current rebalance, not yet through a completed join. */
  isNew: boolean;
}

export const EMPTY_BYTES = new Uint8Array(0);

export class Group {
  readonly groupId: string;
  state: GroupState = GroupState.Empty;
  generationId = 0;
  protocolType = '';
  protocolName = '';
  leaderId = '';
  readonly members = new Map<string, Member>();
  /** Member ids handed out by MEMBER_ID_REQUIRED, valid until they join or their session expires. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** groupInstanceId → memberId for static members. */
  readonly staticMembers = new Map<string, string>();
  /** Timer completing the current join phase (rebalance timeout or initial delay). */
  joinTimer: NodeJS.Timeout | undefined;
  /** Deadline of the initial rebalance delay, which each new join extends (KIP-134). */
  initialDelayDeadline = 0;
  /** When the group last changed state (for offsets retention of empty groups). */
  stateTimestamp = Date.now();

  constructor(groupId: string) {
    this.groupId = groupId;
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  transition(state: GroupState): void {
    this.state = state;
    this.stateTimestamp = Date.now();
  }

  /** The rebalance timeout of the group: the largest of its members'. */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Every member has rejoined, and no member id handed out by MEMBER_ID_REQUIRED is still outstanding. */
  get allMembersJoined(): boolean {
    for (const m of this.members.values()) if (!m.awaitingJoin) return false;
    return this.pendingMembers.size === 0;
  }

  /** Protocol names every current member supports. */
  candidateProtocols(): Set<string> {
    let candidates: Set<string> | undefined;
    for (const m of this.members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      candidates = candidates ? new Set([...candidates].filter((n) => names.has(n))) : names;
    }
    return candidates ?? new Set();
  }

  /** Can a member with these protocols join (ClassicGroup.supportsProtocols)? */
  supportsProtocols(protocolType: string, protocols: GroupProtocol[], ignoringMember?: string): boolean {
    if (protocolType === '' || protocols.length === 0) return false;
    const others = [...this.members.values()].filter((m) => m.memberId !== ignoringMember);
    if (others.length === 0) return true;
    if (protocolType !== this.protocolType) return false;
    const names = new Set(protocols.map((p) => p.name));
    return others.every((m) => m.protocols.some((p) => names.has(p.name)));
  }

  /**
   * The protocol for the next generation: among those every member supports, each member votes for
   * the first one in its own preference order; most votes wins (ties: the leader's preference).
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    const leader = this.members.get(this.leaderId) ?? this.members.values().next().value;
    const order = leader ? leader.protocols.map((p) => p.name) : [...votes.keys()];
    let best = '';
    let bestVotes = -1;
    for (const name of order) {
      const v = votes.get(name) ?? -1;
      if (v > bestVotes) {
        best = name;
        bestVotes = v;
      }
    }
    return best;
  }

  /** Member metadata for the chosen protocol (what the leader receives in JoinGroup). */
  metadataFor(member: Member, protocolName = this.protocolName): Uint8Array {
    return member.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY_BYTES;
  }

  /** Is this (memberId, groupInstanceId) pair stale, i.e. another member now holds the instance id? */
  isFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /** The error for a member id that is neither a member nor pending, or undefined when it is known. */
  memberError(memberId: string, groupInstanceId: string | null): ErrorCode | undefined {
    if (this.isFenced(memberId, groupInstanceId)) return 'FENCED_INSTANCE_ID';
    return this.has(memberId) ? undefined : 'UNKNOWN_MEMBER_ID';
  }
}

/**
 * A consumer's membership of its group: Kafka's classic group protocol as Kafka clients run it,
 * over the group ops of docs/protocol.md. The consumer side of a rebalance (what is revoked,
 * committed, fetched) is behind `RebalanceHooks` (group-assignment.ts).
 *
 * The loop (one per member, started by `subscribe`) sleeps until a rejoin is needed, then:
 *   1. resolves the subscription (a pattern is matched against the topic list);
 *   2. `beforeJoin`: eager protocols give up every partition (committing first), cooperative ones
 *      only those of topics no longer subscribed; after the membership was lost, everything goes
 *      without a commit (`onPartitionsLost`);
 *   3. JoinGroup with one ConsumerProtocol Subscription per assignor (owned partitions included).
 *      The first join has no member id and gets MEMBER_ID_REQUIRED with one: join again with it.
 *      UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION reset the member id; REBALANCE_IN_PROGRESS joins again;
 *      retriable failures back off and start over; anything else is fatal (readers throw it);
 *   4. the leader computes every member's assignment (group-leader.ts); SyncGroup hands them out;
 *   5. `assigned`: partitions gone are revoked (cooperative), new ones start from the committed
 *      offset. A cooperative member that revoked something joins again at once, so that the next
 *      rebalance can give those partitions to their new owner.
 * Heartbeats run on their own timer whenever the member holds a generation and is not inside
 * JoinGroup/SyncGroup (the coordinator counts a member waiting there as alive): REBALANCE_IN_PROGRESS
 * asks for a rejoin, UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION reset the membership (partitions lost).
 * Commits carry the member's generation and react to refusals the same way. A periodic metadata
 * check rejoins when a pattern matches other topics, or (leader) when partition counts change.
 *
 * `#resets` counts membership resets: an answer to a request sent before a reset belongs to a
 * membership that no longer exists and is dropped.
 */
import { SluiceError } from '../errors.ts';
import type { JoinGroupResponse, SyncGroupResponse } from '../protocol/wire/ops.ts';
import { backoffDelay } from './backoff.ts';
import { rebalanceProtocolOf } from './built-in-assignors.ts';
import { decodeAssignment, encodeSubscription } from './consumer-protocol.ts';
import { GroupHeartbeat } from './group-heartbeat.ts';
import { computeAssignments, matchingTopics, partitionCounts, sameCounts } from './group-leader.ts';
import type {
  GroupGeneration,
  GroupMemberOptions,
  RebalanceHooks,
  Subscription,
} from './group-member-options.ts';
import { CommitFailedError, commitOffsets, type OffsetAndMetadata } from './offset-commits.ts';
import { toSluiceError } from './responses.ts';
import type { ClientTransport } from './transport.ts';

export type { GroupGeneration, GroupMemberOptions, RebalanceHooks, Subscription };

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One consumer's membership of its group; see the module comment. */
export class GroupMember {
  readonly #transport: ClientTransport;
  readonly #o: GroupMemberOptions;
  readonly #hooks: RebalanceHooks;
  readonly #protocol: 'eager' | 'cooperative';
  #subscription: Subscription | undefined;
  #topics: string[] = [];
  #memberId = '';
  #generationId = -1;
  /** The generation of the partitions held (the last one synced). */
  #ownedGeneration = -1;
  #leader = false;
  #groupTopics = new Map<string, number>();
  #rejoinNeeded = false;
  #lost = false;
  #resets = 0;
  #joining = false;
  readonly #heartbeat: GroupHeartbeat;
  #metadataTimer: ReturnType<typeof setTimeout> | undefined;
  #wakeUp: (() => void) | undefined;
  #looping = false;
  #hook: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(transport: ClientTransport, options: GroupMemberOptions, hooks: RebalanceHooks) {
    this.#transport = transport;
    this.#o = options;
    this.#hooks = hooks;
    this.#protocol = rebalanceProtocolOf(options.assignors);
    this.#heartbeat = new GroupHeartbeat(
      transport,
      {
        intervalMs: options.heartbeatIntervalMs,
        timeoutMs: Math.min(options.requestTimeoutMs, options.sessionTimeoutMs),
      },
      (code) => this.#onGroupError(code),
    );
  }

  /** eager or cooperative (cooperative only when every assignor is). */
  get protocol(): 'eager' | 'cooperative' {
    return this.#protocol;
  }

  /** The member's current generation (memberId '' and generationId -1 outside one). */
  get generation(): GroupGeneration {
    return {
      groupId: this.#o.groupId,
      memberId: this.#memberId,
      generationId: this.#generationId,
      groupInstanceId: this.#o.groupInstanceId,
    };
  }

  /** True while subscribed. */
  get subscribed(): boolean {
    return this.#subscription !== undefined;
  }

  /** The subscribed topics (a pattern's current matches). */
  get topics(): string[] {
    return [...this.#topics];
  }

  /** Subscribe (replacing the previous subscription) and start the loop. */
  subscribe(subscription: Subscription): void {
    this.#subscription = subscription;
    this.#topics = 'topics' in subscription ? [...new Set(subscription.topics)].sort() : [];
    this.requestRejoin();
    if (!this.#looping) {
      this.#looping = true;
      void this.#run();
    }
    this.#scheduleMetadataCheck();
  }

  /** Ask for a rebalance (the loop joins again). */
  requestRejoin(): void {
    this.#rejoinNeeded = true;
    this.#wake();
  }

  /** Stop the loop and the timers (close/unsubscribe); a join in flight is abandoned. */
  stop(): void {
    this.#subscription = undefined;
    this.#heartbeat.stop();
    clearTimeout(this.#metadataTimer);
    this.#wake();
  }

  /** Stop for good. */
  close(): void {
    this.#stopped = true;
    this.stop();
  }

  /** Resolves once no rebalance hook is running. */
  async hookIdle(): Promise<void> {
    await this.#hook.catch(() => {});
  }

  /**
   * Leave the group (a dynamic member that holds a member id; static members stay until their
   * session times out, so that a restart does not rebalance, as KIP-345 has it). Best effort.
   */
  async leave(reason: string): Promise<void> {
    const { memberId } = this;
    this.#memberId = '';
    this.#generationId = this.#ownedGeneration = -1;
    this.#resets++;
    if (memberId === '' || this.#o.groupInstanceId !== null) return;
    try {
      await this.#transport.request(
        'leaveGroup',
        { groupId: this.#o.groupId, members: [{ memberId, reason }] },
        { timeoutMs: Math.min(this.#o.requestTimeoutMs, 5_000) },
      );
    } catch {
      // The coordinator expels the member after its session timeout anyway.
    }
  }

  /** The member id ('' outside a generation). */
  get memberId(): string {
    return this.#memberId;
  }

  /** True while JoinGroup/SyncGroup are in flight (commits then would only be refused). */
  get joining(): boolean {
    return this.#joining;
  }

  /**
   * Commit with the member's generation (or as nobody, -1/'', when not subscribed: manual
   * assignment). Retriable failures are retried until `requestTimeoutMs`. A refusal rejects with
   * CommitFailedError and acts on the membership: ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID reset it
   * (partitions lost, rejoin), REBALANCE_IN_PROGRESS asks for a rejoin.
   */
  async commit(offsets: readonly OffsetAndMetadata[]): Promise<void> {
    if (offsets.length === 0) return;
    if (this.#subscription && this.#memberId === '') {
      throw new CommitFailedError(
        'REBALANCE_IN_PROGRESS',
        `the consumer is joining group ${this.#o.groupId}; commit once partitions are assigned`,
        [],
      );
    }
    const committer = this.generation;
    const resets = this.#resets;
    const deadline = Date.now() + this.#o.requestTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await commitOffsets(this.#transport, committer, offsets, this.#o.requestTimeoutMs);
        return;
      } catch (err) {
        const error = toSluiceError(err);
        if (resets === this.#resets && committer.memberId !== '') this.#onGroupError(error.code);
        if (!error.retriable || Date.now() >= deadline || this.#stopped) throw error;
      }
      await delay(backoffDelay(this.#o.retryBackoff, attempt));
    }
  }

  /** The loop; `#looping` is cleared synchronously as it ends, so a new subscription starts a new one. */
  async #run(): Promise<void> {
    let failures = 0;
    try {
      while (this.#subscription && !this.#stopped) {
        if (!this.#rejoinNeeded) {
          await new Promise<void>((resolve) => (this.#wakeUp = resolve));
          continue;
        }
        try {
          await this.#joinAndSync();
          failures = 0;
        } catch (err) {
          this.#joining = false;
          if (!this.#subscription || this.#stopped) return;
          const error = toSluiceError(err);
          this.#rejoinNeeded = true;
          if (!error.retriable) {
            this.stop();
            this.#hooks.failed(error);
            return;
          }
          await Promise.race([
            delay(backoffDelay(this.#o.retryBackoff, failures++)),
            new Promise<void>((resolve) => (this.#wakeUp = resolve)),
          ]);
        }
      }
    } finally {
      this.#looping = false;
    }
  }

  async #joinAndSync(): Promise<void> {
    this.#rejoinNeeded = false;
    const resets = this.#resets;
    const subscription = this.#subscription!;
    if ('pattern' in subscription) this.#topics = await matchingTopics(this.#transport, subscription.pattern);
    const lost = this.#lost;
    this.#lost = false;
    const topics = new Set(this.#topics);
    await this.#runHook(() => this.#hooks.beforeJoin({ protocol: this.#protocol, lost, topics }));
    if (!this.#current(resets)) return;
    this.#joining = true;
    this.#heartbeat.stop();
    let joined: JoinGroupResponse | undefined;
    let synced: SyncGroupResponse;
    try {
      joined = await this.#join(resets);
      if (!joined) return;
      this.#memberId = joined.memberId;
      this.#generationId = joined.generationId;
      this.#leader = joined.leader === joined.memberId;
      let assignments: { memberId: string; assignment: Uint8Array }[] = [];
      if (this.#leader) {
        const computed = await computeAssignments(this.#transport, this.#o.assignors, joined);
        assignments = computed.assignments;
        this.#groupTopics = computed.topicPartitions;
      }
      if (!this.#current(resets)) return;
      synced = await this.#transport.request(
        'syncGroup',
        {
          groupId: this.#o.groupId,
          generationId: joined.generationId,
          memberId: joined.memberId,
          groupInstanceId: this.#o.groupInstanceId,
          protocolType: 'consumer',
          protocolName: joined.protocolName,
          assignments,
        },
        { timeoutMs: this.#o.rebalanceTimeoutMs + this.#o.requestTimeoutMs },
      );
    } finally {
      this.#joining = false;
    }
    if (!this.#current(resets)) return;
    if (synced.error) {
      if (!this.#onGroupError(synced.error.code)) throw SluiceError.from(synced.error);
      return;
    }
    const partitions = decodeAssignment(synced.assignment);
    this.#ownedGeneration = joined.generationId;
    this.#heartbeat.start(this.generation);
    const revoked = await this.#runHook(() => this.#hooks.assigned(partitions));
    if (revoked && this.#current(resets)) this.requestRejoin();
  }

  /** JoinGroup until joined; undefined when the membership was reset or the member stopped meanwhile. */
  async #join(resets: number): Promise<JoinGroupResponse | undefined> {
    for (;;) {
      const owned = this.#hooks.owned();
      const joined = await this.#transport.request(
        'joinGroup',
        {
          groupId: this.#o.groupId,
          memberId: this.#memberId,
          groupInstanceId: this.#o.groupInstanceId,
          sessionTimeoutMs: this.#o.sessionTimeoutMs,
          rebalanceTimeoutMs: this.#o.rebalanceTimeoutMs,
          protocolType: 'consumer',
          protocols: this.#o.assignors.map((a) => ({
            name: a.name,
            metadata: encodeSubscription(this.#topics, owned, a.userData?.(this.#ownedGeneration)),
          })),
        },
        // The coordinator answers when the rebalance completes: up to the rebalance timeout.
        { timeoutMs: this.#o.rebalanceTimeoutMs + this.#o.requestTimeoutMs },
      );
      if (!this.#current(resets)) return undefined;
      const code = joined.error?.code;
      if (code === undefined) return joined;
      if (code === 'MEMBER_ID_REQUIRED') {
        this.#memberId = joined.memberId;
      } else if (code !== 'REBALANCE_IN_PROGRESS') {
        if (!this.#onGroupError(code)) throw SluiceError.from(joined.error!);
        return undefined;
      }
    }
  }

  /** React to a group error; false when it is not one that the membership handles. */
  #onGroupError(code: string): boolean {
    if (code === 'REBALANCE_IN_PROGRESS') {
      this.requestRejoin();
      return true;
    }
    if (code === 'UNKNOWN_MEMBER_ID' || code === 'ILLEGAL_GENERATION') {
      this.#reset();
      return true;
    }
    if (code === 'FENCED_INSTANCE_ID') {
      this.stop();
      this.#hooks.failed(
        new SluiceError(
          'FENCED_INSTANCE_ID',
          `group instance ${this.#o.groupInstanceId} was fenced by another consumer with the same groupInstanceId`,
        ),
      );
      return true;
    }
    return false;
  }

  /** The membership is gone: forget the member id and generation, rejoin, and treat partitions as lost. */
  #reset(): void {
    this.#memberId = '';
    this.#generationId = this.#ownedGeneration = -1;
    this.#leader = false;
    this.#lost = true;
    this.#resets++;
    this.#heartbeat.stop();
    this.requestRejoin();
  }

  #current(resets: number): boolean {
    return this.#resets === resets && this.#subscription !== undefined && !this.#stopped;
  }

  async #runHook<T>(hook: () => Promise<T>): Promise<T> {
    const running = this.#hook.catch(() => {}).then(hook);
    this.#hook = running;
    return running;
  }

  #wake(): void {
    const wake = this.#wakeUp;
    this.#wakeUp = undefined;
    wake?.();
  }

  #scheduleMetadataCheck(): void {
    clearTimeout(this.#metadataTimer);
    if (!this.#subscription) return;
    this.#metadataTimer = setTimeout(() => void this.#checkMetadata(), this.#o.metadataMaxAgeMs);
    this.#metadataTimer.unref?.();
  }

  /** Rejoin when a pattern matches other topics, or (leader) when the group's partition counts changed. */
  async #checkMetadata(): Promise<void> {
    try {
      const subscription = this.#subscription;
      if (subscription && 'pattern' in subscription) {
        const topics = await matchingTopics(this.#transport, subscription.pattern);
        if (topics.join('\u0000') !== this.#topics.join('\u0000')) this.requestRejoin();
      }
      if (this.#leader && !this.#rejoinNeeded && this.#groupTopics.size > 0) {
        const counts = await partitionCounts(this.#transport, [...this.#groupTopics.keys()]);
        if (this.#leader && !sameCounts(counts, this.#groupTopics)) this.requestRejoin();
      }
    } catch {
      // Try again next time.
    } finally {
      this.#scheduleMetadataCheck();
    }
  }
}

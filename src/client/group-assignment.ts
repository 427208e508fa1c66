/**
 * The consumer's side of a rebalance (group-member.ts runs the protocol): which partitions the
 * consumer reads, where they start, what is committed when, and the application's rebalance
 * callbacks.
 *
 * Revoking partitions, in this order: (1) they are marked `revoking`, so nothing more of them is
 * fetched or handed out (a record iterator stops at the next record, a batch in hand is not
 * continued); (2) on a rebalance, a `run` handler still busy with one of their batches is awaited, so
 * that its position counts; (3) with auto-commit, their positions are committed; (4)
 * `onPartitionsRevoked` runs (`onPartitionsLost` when the membership was lost: no commit, the
 * partitions may already be someone else's); (5) they are dropped with everything buffered. So no
 * record of a revoked partition is delivered after its revoke callback, and the commit happens
 * before the callback returns control to the rebalance.
 *
 * Assigned partitions start from the group's committed offset, or by `autoOffsetReset` when there is
 * none; `onPartitionsAssigned` runs after every successful rebalance with the partitions added (an
 * empty list when nothing was added, as in Kafka).
 *
 * Auto-commit commits the positions that moved, every `autoCommitIntervalMs`, before partitions are
 * revoked, and on close. A position is the next offset to hand out (records handed to the
 * application count as consumed; `run` advances only after its handler resolved).
 */
import type { SluiceError } from '../errors.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import type { Fetcher, OffsetResetPolicy, TopicPartition } from './fetcher.ts';
import { GroupMember, type GroupMemberOptions, type RebalanceHooks } from './group-member.ts';
import { type CommittedOffset, fetchCommitted, type OffsetAndMetadata } from './offset-commits.ts';
import { type PartitionState, tpKey } from './partition-state.ts';
import { toSluiceError } from './responses.ts';
import type { ClientTransport } from './transport.ts';

/**
 * Called around rebalances, in order; a rebalance waits for each returned promise. A callback that
 * throws does not stop the rebalance: its error is thrown once by the iterators or `run`.
 */
export interface RebalanceListener {
  /** After every successful rebalance, with the partitions added to this consumer (maybe none). */
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions given up; their positions are already committed (auto-commit). */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions lost with the membership (expelled, fenced generation): nothing was committed.
   * Default: onPartitionsRevoked. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** What the group needs from its consumer. */
export interface ConsumerSeam {
  readonly fetcher: Fetcher;
  /** Resolves once no `run` handler is busy. */
  handlersIdle(): Promise<void>;
  /** Hand an error (a rebalance callback's) to the reader: thrown once by the iterators or `run`. */
  report(error: unknown): void;
  /** The group failed for good: readers throw `error` from now on. */
  fail(error: SluiceError): void;
}

/** Consumer-side group settings. */
export interface GroupAssignmentOptions {
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  autoOffsetReset: OffsetResetPolicy;
  retryBackoff: BackoffOptions;
}

const key = (tp: TopicPartition) => tpKey(tp.topic, tp.partition);
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The consumer's group state: membership plus the rebalance hooks; see the module comment. */
export class GroupAssignment implements RebalanceHooks {
  readonly member: GroupMember;
  readonly #transport: ClientTransport;
  readonly #o: GroupAssignmentOptions;
  readonly #seam: ConsumerSeam;
  readonly #groupId: string;
  #listener: RebalanceListener = {};
  /** The last offset committed (or found committed) per partition: unchanged positions are not recommitted. */
  readonly #committed = new Map<string, number>();
  #autoCommitTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    transport: ClientTransport,
    memberOptions: GroupMemberOptions,
    options: GroupAssignmentOptions,
    seam: ConsumerSeam,
  ) {
    this.#transport = transport;
    this.#o = options;
    this.#seam = seam;
    this.#groupId = memberOptions.groupId;
    this.member = new GroupMember(transport, memberOptions, this);
  }

  /** Subscribe and start rebalancing. */
  subscribe(
    subscription: { topics: readonly string[] } | { pattern: RegExp },
    listener?: RebalanceListener,
  ): void {
    this.#listener = listener ?? {};
    this.member.subscribe(subscription);
    this.#scheduleAutoCommit();
  }

  /** Leave the group: commit (auto-commit), revoke everything, send LeaveGroup. `close`: for good. */
  async leave(close: boolean): Promise<void> {
    clearTimeout(this.#autoCommitTimer);
    const member = this.member;
    const wasMember = member.memberId !== '';
    if (close) member.close();
    else member.stop();
    await member.hookIdle();
    // Not waiting for handlers here: close() may be called from inside one.
    await this.#revoke(this.owned(), wasMember ? 'revoked' : 'lost', false);
    await member.leave(close ? 'the consumer is closing' : 'the consumer unsubscribed');
  }

  /** Commit `offsets`, or the positions that moved (default); updates what counts as committed. */
  async commit(offsets?: readonly OffsetAndMetadata[]): Promise<void> {
    const list = offsets ?? this.#moved(this.#seam.fetcher.states().filter((s) => !s.revoking));
    await this.member.commit(list);
    for (const o of list) this.#committed.set(key(o), o.offset);
  }

  /** The group's committed offsets of `partitions` (default: the assigned ones). */
  committed(partitions?: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    return fetchCommitted(this.#transport, this.#groupId, partitions ?? this.owned());
  }

  owned(): TopicPartition[] {
    return this.#seam.fetcher.states().map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  async beforeJoin(change: {
    protocol: 'eager' | 'cooperative';
    lost: boolean;
    topics: ReadonlySet<string>;
  }): Promise<void> {
    const owned = this.owned();
    if (change.lost) await this.#revoke(owned, 'lost', false);
    else if (change.protocol === 'eager') await this.#revoke(owned, 'revoked', true);
    else
      await this.#revoke(
        owned.filter((tp) => !change.topics.has(tp.topic)),
        'revoked',
        true,
      );
  }

  async assigned(partitions: TopicPartition[]): Promise<boolean> {
    const target = new Set(partitions.map(key));
    const owned = this.owned();
    const ownedKeys = new Set(owned.map(key));
    const revoked = owned.filter((tp) => !target.has(key(tp)));
    const added = [...new Map(partitions.map((tp) => [key(tp), tp])).values()].filter(
      (tp) => !ownedKeys.has(key(tp)),
    );
    await this.#revoke(revoked, 'revoked', true);
    if (added.length > 0) await this.#add(added);
    await this.#call('onPartitionsAssigned', added);
    return revoked.length > 0;
  }

  failed(error: SluiceError): void {
    clearTimeout(this.#autoCommitTimer);
    this.#seam.fail(error);
  }

  async #add(added: TopicPartition[]): Promise<void> {
    const committed = await this.#fetchCommitted(added);
    if (!committed) return;
    const fetcher = this.#seam.fetcher;
    for (const tp of added) {
      const state = fetcher.add(tp.topic, tp.partition);
      const offset = committed.get(key(tp)) ?? -1;
      if (offset >= 0) {
        this.#committed.set(key(tp), offset);
        fetcher.seek(state, offset);
      } else {
        fetcher.reset(state, this.#o.autoOffsetReset);
      }
    }
    fetcher.notify();
    fetcher.pump();
  }

  /** Committed offsets, retrying retriable failures (a broker restart) until the member stops. */
  async #fetchCommitted(partitions: TopicPartition[]): Promise<Map<string, number> | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const found = await fetchCommitted(this.#transport, this.#groupId, partitions);
        return new Map(found.map((c) => [key(c), c.offset]));
      } catch (err) {
        if (!toSluiceError(err).retriable) throw err;
      }
      if (!this.member.subscribed) return undefined;
      await delay(backoffDelay(this.#o.retryBackoff, attempt));
    }
  }

  async #revoke(tps: TopicPartition[], how: 'revoked' | 'lost', waitForHandlers: boolean): Promise<void> {
    if (tps.length === 0) return;
    const fetcher = this.#seam.fetcher;
    const states = tps.map((tp) => fetcher.state(tp.topic, tp.partition)).filter((s) => s !== undefined);
    for (const s of states) s.revoking = true;
    if (how === 'revoked') {
      if (waitForHandlers) await this.#seam.handlersIdle();
      if (this.#o.autoCommit) {
        const offsets = this.#moved(states);
        try {
          await this.member.commit(offsets);
          for (const o of offsets) this.#committed.set(key(o), o.offset);
        } catch {
          // As in Kafka: a failed commit does not stop the rebalance (the next owner re-reads).
        }
      }
    }
    const lost = how === 'lost' && this.#listener.onPartitionsLost !== undefined;
    await this.#call(lost ? 'onPartitionsLost' : 'onPartitionsRevoked', tps);
    for (const s of states) {
      fetcher.remove(s);
      this.#committed.delete(key(s));
    }
  }

  /** Positions that moved since the last commit. */
  #moved(states: readonly PartitionState[]): OffsetAndMetadata[] {
    const out: OffsetAndMetadata[] = [];
    for (const s of states) {
      if (s.position === undefined || this.#committed.get(key(s)) === s.position) continue;
      out.push({ topic: s.topic, partition: s.partition, offset: s.position });
    }
    return out;
  }

  async #call(callback: keyof RebalanceListener, partitions: TopicPartition[]): Promise<void> {
    try {
      await this.#listener[callback]?.(partitions);
    } catch (err) {
      this.#seam.report(err);
    }
  }

  #scheduleAutoCommit(): void {
    clearTimeout(this.#autoCommitTimer);
    if (!this.#o.autoCommit || !this.member.subscribed) return;
    this.#autoCommitTimer = setTimeout(() => void this.#autoCommit(), this.#o.autoCommitIntervalMs);
    this.#autoCommitTimer.unref?.();
  }

  async #autoCommit(): Promise<void> {
    try {
      // Not while joining: the coordinator would refuse it, and the rebalance commits anyway.
      if (this.member.memberId !== '' && !this.member.joining) await this.commit();
    } catch {
      // Refusals already act on the membership; anything else is retried next time.
    } finally {
      this.#scheduleAutoCommit();
    }
  }
}

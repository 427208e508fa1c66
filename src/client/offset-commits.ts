/**
 * Committed offsets: `offsetCommit` and `offsetFetch` as the consumer and the admin client use them,
 * and the typed error for a refused commit.
 *
 * A group member commits with its generation and member id; the coordinator refuses a stale
 * generation (ILLEGAL_GENERATION), a member it no longer knows (UNKNOWN_MEMBER_ID) and commits made
 * while the group waits for its leader's assignment (REBALANCE_IN_PROGRESS). Generation -1 with
 * member id '' is a commit outside any generation, accepted only while the group has no members (an
 * offset reset). Metadata strings are stored and returned exactly.
 */
import { type ErrorCode, SluiceError } from '../errors.ts';
import type { TopicPartition } from './fetcher.ts';
import { groupByTopic } from './responses.ts';
import type { ClientTransport } from './transport.ts';

/** An offset to commit: the offset of the next record to read, and optional metadata kept with it. */
export interface OffsetAndMetadata extends TopicPartition {
  offset: number;
  metadata?: string | null;
}

/** A committed offset as the coordinator returns it; `offset` -1 (and metadata '') when none. */
export interface CommittedOffset extends TopicPartition {
  offset: number;
  metadata: string;
}

/** One partition of a failed commit. */
export interface CommitFailure extends TopicPartition {
  error: SluiceError;
}

/**
 * A commit that failed, like Kafka's CommitFailedException: `code` is the first failing partition's
 * (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS when the group moved on, or a
 * per-partition error such as OFFSET_METADATA_TOO_LARGE); `failures` lists every failing partition.
 * Partitions not listed were committed.
 */
export class CommitFailedError extends SluiceError {
  readonly failures: readonly CommitFailure[];

  constructor(code: ErrorCode, message: string, failures: readonly CommitFailure[]) {
    super(code, message);
    this.name = 'CommitFailedError';
    this.failures = failures;
  }
}

/** Who commits: a member of a generation, or (-1, '') nobody in particular. */
export interface Committer {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/** Commit `offsets`; rejects with CommitFailedError if any partition failed. */
export async function commitOffsets(
  transport: ClientTransport,
  committer: Committer,
  offsets: readonly OffsetAndMetadata[],
  timeoutMs?: number,
): Promise<void> {
  for (const o of offsets) {
    if (!Number.isSafeInteger(o.offset) || o.offset < 0)
      throw new SluiceError('INVALID_REQUEST', `invalid offset ${o.offset} for ${o.topic}-${o.partition}`);
  }
  if (offsets.length === 0) return;
  const response = await transport.request(
    'offsetCommit',
    {
      groupId: committer.groupId,
      generationId: committer.generationId,
      memberId: committer.memberId,
      groupInstanceId: committer.groupInstanceId,
      topics: groupByTopic(offsets, (o) => ({
        partition: o.partition,
        offset: o.offset,
        metadata: o.metadata ?? null,
      })),
    },
    timeoutMs === undefined ? undefined : { timeoutMs },
  );
  const failures: CommitFailure[] = [];
  for (const t of response.topics) {
    for (const p of t.partitions) {
      if (p.error)
        failures.push({ topic: t.topic, partition: p.partition, error: SluiceError.from(p.error) });
    }
  }
  if (failures.length === 0) return;
  const first = failures[0]!;
  throw new CommitFailedError(
    first.error.code,
    `commit of group ${committer.groupId} (generation ${committer.generationId}) failed for ` +
      `${failures.map((f) => `${f.topic}-${f.partition}`).join(', ')}: ${first.error.message}`,
    failures,
  );
}

/** The group's committed offsets of `partitions` (null: every partition it has committed). */
export async function fetchCommitted(
  transport: ClientTransport,
  groupId: string,
  partitions: readonly TopicPartition[] | null,
): Promise<CommittedOffset[]> {
  const response = await transport.request('offsetFetch', {
    groupId,
    topics: partitions === null ? null : groupByTopic(partitions, (tp) => tp.partition),
  });
  if (response.error) throw SluiceError.from(response.error);
  const out: CommittedOffset[] = [];
  for (const t of response.topics) {
    for (const p of t.partitions) {
      if (p.error) throw SluiceError.from(p.error);
      out.push({ topic: t.topic, partition: p.partition, offset: p.offset, metadata: p.metadata });
    }
  }
  return out;
}

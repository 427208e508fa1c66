/**
 * The types a group member is configured and observed with (group-member.ts), kept apart so that
 * the member's file holds only its loop.
 */
import type { SluiceError } from '../errors.ts';
import type { Assignor } from './assignor.ts';
import type { BackoffOptions } from './backoff.ts';
import type { TopicPartition } from './fetcher.ts';

/** What a member subscribes to: topics, or a pattern matched against the topic names. */
export type Subscription = { topics: readonly string[] } | { pattern: RegExp };

/** Resolved group settings (see ConsumerOptions). */
export interface GroupMemberOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  metadataMaxAgeMs: number;
  requestTimeoutMs: number;
  assignors: readonly Assignor[];
  retryBackoff: BackoffOptions;
}

/** What the member asks of the consumer around a rebalance. */
export interface RebalanceHooks {
  /** The partitions the member holds now. */
  owned(): TopicPartition[];
  /** Before joining: give up partitions (see the module comment). */
  beforeJoin(change: {
    protocol: 'eager' | 'cooperative';
    lost: boolean;
    topics: ReadonlySet<string>;
  }): Promise<void>;
  /** After SyncGroup: take the new assignment; true when partitions were revoked. */
  assigned(partitions: TopicPartition[]): Promise<boolean>;
  /** The membership failed for good (fenced, inconsistent protocol, invalid settings). */
  failed(error: SluiceError): void;
}

/** What a member is: `memberId` '' and `generationId` -1 outside any generation. */
export interface GroupGeneration {
  groupId: string;
  memberId: string;
  generationId: number;
  groupInstanceId: string | null;
}

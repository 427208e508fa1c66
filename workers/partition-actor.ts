/**
 * A partition actor: the one owner of one partition's log, living on a worker thread.
 *
 * Its mailbox processes requests strictly in arrival order, one at a time. Appends are validated
 * as soon as they arrive (validation touches no state, and may be asynchronous for compressed
 * batches), but they are written in mailbox order; consecutive appends whose validation is done are
 * written together with one vectored write. Appends that must wait for an fsync (flush.messages) are
 * acknowledged when it completes, without holding up the mailbox: that is what lets one fsync cover
 * every append that arrived meanwhile (group commit).
 *
 * Log compaction runs through the same mailbox, so it never interleaves with an append to this
 * partition: the host starts a pass (`startCleaning`), the actor runs one bounded step per turn
 * (PartitionLog.clean) and queues the next step only after yielding to the event loop, so requests
 * to this partition and to the other partitions of the worker are served between steps.
 *
 * Worker-thread only.
 */
import fs from 'node:fs';
import { type ErrorData, errorData, toErrorData } from '../src/errors.ts';
import { type AppendOutcome, PartitionLog, type PreparedBatch, prepareBatch } from '../src/storage/log.ts';
import type { CleanProgress } from '../src/storage/log-cleaner.ts';
import type { LogConfig } from '../src/storage/log-config.ts';
import type { AppendReply, AppendRequest, PartitionCounters, ReadReply, WorkerRequest } from './contract.ts';

/** What an actor needs from its host: a way to answer and to publish events. */
export interface ActorHost {
  reply(id: number, value: unknown, transfer?: ArrayBuffer): void;
  /** A successful append (packed on the way back). */
  acked(id: number, reply: AppendReply): void;
  fail(id: number, error: ErrorData): void;
  offsetsMoved(key: string, highWatermark: number, logStartOffset: number): void;
  fsynced(seconds: number): void;
  /** Retention deleted segments of this partition. */
  retained(key: string, deletedSegments: number, deletedBytes: number): void;
  /** The actor closed or deleted its partition and leaves the host. */
  removed(key: string): void;
  /** A cleaning step ran on this partition. */
  cleaned(key: string, progress: CleanProgress): void;
  /** This partition's cleaning pass ended (finished, abandoned, failed, or the partition closed). */
  cleanerIdle(key: string): void;
}

interface AppendTask {
  kind: 'append';
  req: AppendRequest;
  prepared?: PreparedBatch;
  error?: ErrorData;
  /** Set while asynchronous validation (decompression) runs. */
  pending?: Promise<void>;
}

interface OpTask {
  kind: 'op';
  req: Exclude<WorkerRequest, AppendRequest>;
}

/** One step of a cleaning pass (internal: the host starts passes, the actor continues them). */
interface CleanTask {
  kind: 'clean';
}

type Task = AppendTask | OpTask | CleanTask;

export function emptyCounters(): PartitionCounters {
  return {
    appendedBatches: 0,
    appendedRecords: 0,
    appendedBytes: 0,
    readBytes: 0,
    duplicateBatches: 0,
    rejectedBatches: 0,
  };
}

export class PartitionActor {
  readonly key: string;
  readonly dir: string;
  private config: LogConfig;
  private log: PartitionLog | undefined;
  private readonly queue: Task[] = [];
  private running = false;
  private readonly host: ActorHost;
  counters: PartitionCounters = emptyCounters();
  /** Resolves once the mailbox is empty (used by shutdown). */
  private idleWaiters: (() => void)[] = [];
  /** A cleaning pass is scheduled or in progress. */
  private cleaning = false;
  /** Do not ask the cleaner before this time (log.cleaner.backoff.ms after a "nothing to do"). */
  private nextCleanCheck = 0;

  constructor(key: string, dir: string, config: LogConfig, host: ActorHost) {
    this.key = key;
    this.dir = dir;
    this.config = config;
    this.host = host;
  }

  get isOpen(): boolean {
    return this.log !== undefined;
  }

  get queued(): number {
    return this.queue.length;
  }

  get partitionLog(): PartitionLog | undefined {
    return this.log;
  }

  enqueue(req: WorkerRequest): void {
    if (req.op === 'append') {
      const task: AppendTask = { kind: 'append', req };
      try {
        const prepared = prepareBatch(req.batch, this.config);
        if (prepared instanceof Promise) {
          task.pending = prepared.then(
            (p) => {
              task.prepared = p;
              task.pending = undefined;
            },
            (err: unknown) => {
              task.error = toErrorData(err);
              task.pending = undefined;
            },
          );
        } else {
          task.prepared = prepared;
        }
      } catch (err) {
        task.error = toErrorData(err);
      }
      this.queue.push(task);
    } else if (req.op !== 'shutdown') {
      this.queue.push({ kind: 'op', req });
    }
    if (!this.running) void this.process();
  }

  /** Resolves when every queued request has been handled. */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Periodic duties (flush.ms, producer expiry). */
  tick(now: number): void {
    this.log?.tick(now);
  }

  /**
   * The dirty ratio when this partition needs a cleaning pass now (the host cleans the dirtiest
   * first), else undefined. Cheap: segment sizes only.
   */
  cleanerDue(now: number): number | undefined {
    const log = this.log;
    const config = this.config;
    if (!log || this.cleaning || log.failure || !config.cleanerEnable) return undefined;
    if (!config.cleanupPolicy.includes('compact') || now < this.nextCleanCheck) return undefined;
    const status = log.cleanerStatus(now);
    if (!status.needsCleaning) {
      this.nextCleanCheck = now + config.cleanerBackoffMs;
      return undefined;
    }
    return status.dirtyRatio;
  }

  /** Start a cleaning pass: its steps go through the mailbox like any request. */
  startCleaning(): void {
    if (this.cleaning) return;
    this.cleaning = true;
    this.queue.push({ kind: 'clean' });
    if (!this.running) void this.process();
  }

  takeCounters(): PartitionCounters {
    const c = this.counters;
    this.counters = emptyCounters();
    return c;
  }

  private async process(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind === 'append') {
          if (head.pending) await head.pending;
          const run: AppendTask[] = [];
          while (this.queue.length > 0) {
            const next = this.queue[0]!;
            if (next.kind !== 'append' || next.pending) break;
            run.push(next);
            this.queue.shift();
          }
          this.appendRun(run);
        } else if (head.kind === 'clean') {
          this.queue.shift();
          await this.cleanStep();
        } else {
          this.queue.shift();
          try {
            await this.runOp(head.req);
          } catch (err) {
            this.host.fail(head.req.id, toErrorData(err));
          }
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private appendRun(run: AppendTask[]): void {
    const log = this.log;
    const accepted: AppendTask[] = [];
    for (const task of run) {
      if (task.error) {
        this.counters.rejectedBatches++;
        this.host.fail(task.req.id, task.error);
      } else if (!log) {
        this.host.fail(task.req.id, errorData('PARTITION_CLOSED'));
      } else {
        accepted.push(task);
      }
    }
    if (!log || accepted.length === 0) return;
    const { outcomes, needsFsync } = log.append(accepted.map((t) => t.prepared!));
    const acks: { id: number; value: AppendReply }[] = [];
    for (let i = 0; i < accepted.length; i++) {
      const outcome = outcomes[i] as AppendOutcome;
      const task = accepted[i]!;
      if (!outcome.ok) {
        this.counters.rejectedBatches++;
        this.host.fail(task.req.id, outcome.error);
        continue;
      }
      if (outcome.duplicate) {
        this.counters.duplicateBatches++;
      } else {
        this.counters.appendedBatches++;
        this.counters.appendedRecords += outcome.recordCount;
        this.counters.appendedBytes += task.req.batch.byteLength;
      }
      const { ok: _ok, ...value } = outcome;
      acks.push({ id: task.req.id, value });
    }
    this.host.offsetsMoved(this.key, log.highWatermark, log.logStartOffset);
    if (needsFsync) {
      log.flush().then(
        () => {
          for (const a of acks) this.host.acked(a.id, a.value);
        },
        (err: unknown) => {
          const error = toErrorData(err);
          for (const a of acks) this.host.fail(a.id, error);
        },
      );
    } else {
      for (const a of acks) this.host.acked(a.id, a.value);
    }
    if (log.failure) this.reopenAfterFailure();
  }

  private async cleanStep(): Promise<void> {
    const log = this.log;
    if (!log || !this.cleaning) return this.cleaningEnded(false);
    let progress: CleanProgress;
    try {
      progress = await log.clean();
    } catch (err) {
      const message = (err as Error).message;
      console.error(`sluice worker: cleaning ${this.key} failed: ${message}`);
      this.host.cleaned(this.key, {
        done: true,
        cleanedBytes: 0,
        removedRecords: 0,
        reclaimedBytes: 0,
        swappedGroups: 0,
        abandoned: message,
      });
      this.cleaningEnded(true);
      if (log.failure) this.reopenAfterFailure();
      return;
    }
    this.host.cleaned(this.key, progress);
    if (progress.done) return this.cleaningEnded(progress.abandoned !== undefined);
    // Yield before the next step: whatever arrived meanwhile, for any partition, goes first.
    setImmediate(() => {
      if (this.log !== log || !this.cleaning) return this.cleaningEnded(false);
      this.queue.push({ kind: 'clean' });
      if (!this.running) void this.process();
    });
  }

  private cleaningEnded(backOff: boolean): void {
    if (!this.cleaning) return;
    this.cleaning = false;
    if (backOff) this.nextCleanCheck = Date.now() + this.config.cleanerBackoffMs;
    this.host.cleanerIdle(this.key);
  }

  private reopenAfterFailure(): void {
    this.queue.unshift({
      kind: 'op',
      req: { op: 'open', id: -1, key: this.key, dir: this.dir, config: this.config },
    });
  }

  private async runOp(req: Exclude<WorkerRequest, AppendRequest>): Promise<void> {
    switch (req.op) {
      case 'open': {
        if (this.log?.failure) {
          // Reopen after an I/O failure: recovery repairs the files and rebuilds producer state.
          await this.log.close().catch(() => {});
          this.log = undefined;
        }
        this.config = req.config;
        if (this.log) {
          this.log.reconfigure(req.config);
        } else {
          this.log = await PartitionLog.open(req.dir, req.config, { onFsync: (s) => this.host.fsynced(s) });
        }
        if (req.id >= 0) this.host.reply(req.id, { stats: this.log.stats(), report: this.log.openReport });
        this.host.offsetsMoved(this.key, this.log.highWatermark, this.log.logStartOffset);
        return;
      }
      case 'close': {
        await this.log?.close();
        this.log = undefined;
        this.cleaningEnded(false);
        this.host.removed(this.key);
        this.host.reply(req.id, null);
        return;
      }
      case 'delete': {
        if (this.log) await this.log.deleteLog();
        else fs.rmSync(req.dir, { recursive: true, force: true });
        this.log = undefined;
        this.cleaningEnded(false);
        this.host.removed(this.key);
        this.host.reply(req.id, null);
        return;
      }
      case 'shutdown':
        return;
    }
    const log = this.log;
    if (!log) {
      this.host.fail(req.id, errorData('PARTITION_CLOSED'));
      return;
    }
    switch (req.op) {
      case 'reconfigure':
        this.config = req.config;
        log.reconfigure(req.config);
        this.host.reply(req.id, null);
        return;
      case 'read': {
        const result = log.read(req.offset, req.maxBytes);
        const reply: ReadReply = {
          highWatermark: result.highWatermark,
          logStartOffset: result.logStartOffset,
        };
        if (result.bytes) {
          reply.bytes = result.bytes;
          this.counters.readBytes += result.bytes.byteLength;
          this.host.reply(req.id, reply, result.bytes.buffer as ArrayBuffer);
        } else {
          this.host.reply(req.id, reply);
        }
        return;
      }
      case 'listOffset':
        this.host.reply(req.id, await log.listOffset(req.query));
        return;
      case 'stats':
        this.host.reply(req.id, log.stats());
        return;
      case 'deleteRecords': {
        const logStartOffset = log.deleteRecordsBefore(req.offset);
        this.host.offsetsMoved(this.key, log.highWatermark, logStartOffset);
        this.host.reply(req.id, { logStartOffset });
        return;
      }
      case 'truncate': {
        const logEndOffset = log.truncateTo(req.offset);
        this.host.offsetsMoved(this.key, log.highWatermark, log.logStartOffset);
        this.host.reply(req.id, { logEndOffset });
        return;
      }
      case 'retention': {
        const r = log.applyRetention(Date.now());
        if (r.deletedSegments > 0) {
          this.host.offsetsMoved(this.key, log.highWatermark, log.logStartOffset);
          this.host.retained(this.key, r.deletedSegments, r.deletedBytes);
        }
        this.host.reply(req.id, { ...r, logStartOffset: log.logStartOffset });
        return;
      }
    }
  }
}

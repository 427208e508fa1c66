/**
 * Worker-thread entry point (a piscina task file). The main thread runs one long-lived task per
 * worker (see src/router/partition-engine.ts); the task hosts that worker's partition actors and
 * serves requests from its MessagePort until a `shutdown` request closes every partition cleanly.
 *
 * Batching: replies, events and the buffers to transfer are collected and posted once per
 * event-loop turn (setImmediate), so one postMessage carries many replies; the main thread batches
 * requests the same way.
 *
 * Log compaction: on every tick the host asks its compacted partitions whether they need cleaning
 * (each asks its log at most every log.cleaner.backoff.ms while the answer is no) and starts a pass
 * on the dirtiest one, one pass at a time per worker (Kafka's single cleaner thread, per worker).
 * The pass runs in bounded steps through that partition's mailbox; its figures go out with the
 * periodic report.
 */
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { type ErrorData, errorData } from '../src/errors.ts';
import { TaskLatency } from '../src/metrics/task-latency.ts';
import * as compression from '../src/protocol/kafka/compression.ts';
import { useCompressionCodecs } from '../src/protocol/kafka/record-batch.ts';
import type { CleanProgress } from '../src/storage/log-cleaner.ts';
import {
  ACK_FIELDS,
  type AppendReply,
  type CleanerReport,
  type FromWorker,
  type HostReady,
  type HostTask,
  packAck,
  type ToWorker,
  type WorkerEvent,
  type WorkerReply,
  type WorkerRequest,
} from './contract.ts';
import { type ActorHost, PartitionActor } from './partition-actor.ts';

/** Upper bound on fsync samples carried by one report. */
const MAX_FSYNC_SAMPLES = 4096;

class WorkerHost implements ActorHost {
  private readonly actors = new Map<string, PartitionActor>();
  private replies: WorkerReply[] = [];
  private events: WorkerEvent[] = [];
  private offsets = new Map<string, { highWatermark: number; logStartOffset: number }>();
  private transfer: ArrayBuffer[] = [];
  private acks = new Float64Array(ACK_FIELDS * 256);
  private ackCount = 0;
  private scheduled = false;
  private processed = 0;
  private fsyncs: number[] = [];
  private retentionDeleted: { key: string; deletedSegments: number; deletedBytes: number }[] = [];
  private cleanerReports = new Map<string, CleanerReport>();
  /** The partition whose cleaning pass is in progress, if any. */
  private cleaning: string | undefined;
  private elu = performance.eventLoopUtilization();
  /** Per-op request latency (arrival → answer), reported with the periodic report (metrics). */
  private readonly latency = new TaskLatency();
  private timers: NodeJS.Timeout[] = [];
  private finished: (() => void) | undefined;

  constructor(private readonly task: HostTask) {}

  run(): Promise<void> {
    const { port } = this.task;
    port.on('message', (msg: ToWorker) => this.receive(msg));
    this.timers.push(setInterval(() => this.tick(), this.task.tickIntervalMs));
    this.timers.push(setInterval(() => this.retention(), this.task.retentionCheckIntervalMs));
    for (const t of this.timers) t.unref();
    const ready: HostReady = { ready: true, threadId };
    port.postMessage(ready);
    return new Promise((resolve) => {
      this.finished = resolve;
    });
  }

  private receive(msg: ToWorker): void {
    for (const req of msg.requests) this.route(req);
  }

  private route(req: WorkerRequest): void {
    this.processed++;
    this.latency.start(req.id, req.op);
    if (req.op === 'shutdown') {
      void this.shutdown(req.id);
      return;
    }
    let actor = this.actors.get(req.key);
    if (!actor) {
      if (req.op === 'open') {
        actor = new PartitionActor(req.key, req.dir, req.config, this);
        this.actors.set(req.key, actor);
      } else if (req.op === 'delete') {
        // Not open here: the actor deletes the directory and leaves at once.
        actor = new PartitionActor(req.key, req.dir, undefined as never, this);
        this.actors.set(req.key, actor);
      } else {
        this.fail(req.id, errorData('UNKNOWN_TOPIC_OR_PARTITION', `partition ${req.key} is not open`));
        return;
      }
    }
    actor.enqueue(req);
  }

  // Requests the worker makes of its own actors (retention, close at shutdown) carry id -1:
  // their answers stay here.
  reply(id: number, value: unknown, transfer?: ArrayBuffer): void {
    if (id < 0) return;
    this.latency.end(id);
    this.replies.push({ id, ok: true, value });
    if (transfer) this.transfer.push(transfer);
    this.schedule();
  }

  acked(id: number, reply: AppendReply): void {
    if (id < 0) return;
    this.latency.end(id);
    if ((this.ackCount + 1) * ACK_FIELDS > this.acks.length) {
      const grown = new Float64Array(this.acks.length * 2);
      grown.set(this.acks);
      this.acks = grown;
    }
    packAck(this.acks, this.ackCount * ACK_FIELDS, id, reply);
    this.ackCount++;
    this.schedule();
  }

  fail(id: number, error: ErrorData): void {
    if (id < 0) {
      if (error.code !== 'PARTITION_CLOSED')
        console.error(`sluice worker: internal request failed: ${error.message}`);
      return;
    }
    this.latency.end(id);
    this.replies.push({ id, ok: false, error });
    this.schedule();
  }

  offsetsMoved(key: string, highWatermark: number, logStartOffset: number): void {
    this.offsets.set(key, { highWatermark, logStartOffset });
    this.schedule();
  }

  fsynced(seconds: number): void {
    if (this.fsyncs.length < MAX_FSYNC_SAMPLES) this.fsyncs.push(seconds);
  }

  removed(key: string): void {
    this.actors.delete(key);
    if (this.cleaning === key) this.cleaning = undefined;
  }

  cleaned(key: string, progress: CleanProgress): void {
    let r = this.cleanerReports.get(key);
    if (!r) {
      r = { key, cleanedBytes: 0, removedRecords: 0, reclaimedBytes: 0, passes: 0, abandoned: 0 };
      this.cleanerReports.set(key, r);
    }
    r.cleanedBytes += progress.cleanedBytes;
    r.removedRecords += progress.removedRecords;
    r.reclaimedBytes += progress.reclaimedBytes;
    if (progress.abandoned !== undefined) r.abandoned++;
    else if (progress.done) r.passes++;
  }

  cleanerIdle(key: string): void {
    if (this.cleaning === key) this.cleaning = undefined;
  }

  /** Start a cleaning pass on the dirtiest partition that needs one, unless a pass is running. */
  private scheduleCleaning(now: number): void {
    if (this.cleaning !== undefined) return;
    let dirtiest: PartitionActor | undefined;
    let ratio = -1;
    for (const actor of this.actors.values()) {
      const due = actor.cleanerDue(now);
      if (due !== undefined && due > ratio) {
        dirtiest = actor;
        ratio = due;
      }
    }
    if (!dirtiest) return;
    this.cleaning = dirtiest.key;
    dirtiest.startCleaning();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    for (const [key, o] of this.offsets) this.events.push({ type: 'offsets', key, ...o });
    this.offsets.clear();
    if (this.replies.length === 0 && this.events.length === 0 && this.ackCount === 0) return;
    const msg: FromWorker = { replies: this.replies, events: this.events };
    const transfer = this.transfer;
    if (this.ackCount > 0) {
      msg.acks = this.acks.slice(0, this.ackCount * ACK_FIELDS);
      transfer.push(msg.acks.buffer as ArrayBuffer);
      this.ackCount = 0;
    }
    this.replies = [];
    this.events = [];
    this.transfer = [];
    this.task.port.postMessage(msg, transfer);
  }

  private tick(): void {
    const now = Date.now();
    const partitions: Extract<WorkerEvent, { type: 'report' }>['partitions'] = [];
    let queued = 0;
    for (const actor of this.actors.values()) {
      actor.tick(now);
      queued += actor.queued;
      const log = actor.partitionLog;
      if (log) partitions.push({ key: actor.key, stats: log.stats(), counters: actor.takeCounters() });
    }
    this.scheduleCleaning(now);
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    const tasks = this.latency.take();
    this.events.push({
      type: 'report',
      shard: this.task.shard,
      partitions,
      retention: this.retentionDeleted,
      busyMs: elu.active,
      elapsedMs: elu.idle + elu.active,
      processedRequests: this.processed,
      queuedRequests: queued,
      fsyncs: this.fsyncs,
      ...(this.cleanerReports.size > 0 ? { cleaner: [...this.cleanerReports.values()] } : {}),
      ...(tasks ? { tasks } : {}),
    });
    this.cleanerReports = new Map();
    this.retentionDeleted = [];
    this.fsyncs = [];
    this.processed = 0;
    this.schedule();
  }

  private retention(): void {
    for (const actor of this.actors.values()) {
      if (!actor.isOpen) continue;
      // Through the mailbox, so retention never runs between an append's validation and its write.
      actor.enqueue({ op: 'retention', id: -1, key: actor.key });
    }
  }

  retained(key: string, deletedSegments: number, deletedBytes: number): void {
    if (deletedSegments > 0) this.retentionDeleted.push({ key, deletedSegments, deletedBytes });
  }

  private async shutdown(id: number): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    const actors = [...this.actors.values()];
    for (const actor of actors) actor.enqueue({ op: 'close', id: -1, key: actor.key });
    const failures: string[] = [];
    await Promise.all(actors.map((a) => a.whenIdle().catch((err: Error) => failures.push(err.message))));
    if (failures.length > 0) this.fail(id, errorData('KAFKA_STORAGE_ERROR', failures.join('; ')));
    else this.reply(id, null);
    this.flush();
    // The port stays open: closing it here could drop the reply still in flight (the main thread
    // closes its end once it has the reply). Ending the task returns the thread to piscina.
    this.finished?.();
  }
}

// record-batch.ts loads its (Node-only) codecs lazily with a dynamic import, which the tsx loader
// does not serve inside worker threads on Node 20 ("Unknown file extension .ts"); hand them over
// statically instead.
useCompressionCodecs(compression);

/** The piscina task: serve partitions until shutdown. */
export default function host(task: HostTask): Promise<void> {
  return new WorkerHost(task).run();
}

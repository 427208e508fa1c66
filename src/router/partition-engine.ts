/**
 * PartitionEngine: the main thread's only way to reach partition logs. It starts a fixed piscina
 * pool (one worker per core by default), runs one long-lived host task per worker
 * (workers/partition-worker.ts), routes each partition to its owner with the shard table, and
 * turns worker replies back into promises.
 *
 * Batching: requests to a worker are queued and posted together once per event-loop turn
 * (setImmediate), which puts several batches in each postMessage (a thread hop costs ~4 µs one way).
 * Record bytes move as transferred ArrayBuffers.
 *
 * Failure: if a worker thread dies, its pending requests fail with WORKER_FAILED (retriable), piscina
 * replaces the thread, and the engine reopens that shard's partitions on it (recovery repairs any torn
 * write) before sending it anything else.
 *
 * Main thread only.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  ACK_FIELDS,
  type AppendReply,
  type FromWorker,
  type HostReady,
  type HostTask,
  type OpenReply,
  type OpResults,
  type ReadReply,
  type RetentionReply,
  unpackAck,
  type WorkerEvent,
  type WorkerRequest,
} from '../../workers/contract.ts';
import { errorData, SluiceError } from '../errors.ts';
import type { LogStats, OffsetAnswer, OffsetQuery } from '../storage/log.ts';
import type { LogConfig } from '../storage/log-config.ts';
import { partitionKey, ShardTable } from './shard-table.ts';

export interface EngineOptions {
  /** Directory holding one sub-directory per partition. */
  dataDir: string;
  /** Worker threads (default: number of cores). */
  workers?: number;
  /** Periodic duties and reports, ms (default 1000). */
  tickIntervalMs?: number;
  /** Retention check interval, ms (Kafka's log.retention.check.interval.ms; default 300000). */
  retentionCheckIntervalMs?: number;
}

export type WorkerReport = Extract<WorkerEvent, { type: 'report' }>;

export interface EngineEvents {
  /** A partition's high watermark or log start moved. */
  offsets: [key: string, highWatermark: number, logStartOffset: number];
  /** A worker's periodic report (partition stats, counters, load). */
  report: [report: WorkerReport];
  /** A worker thread failed and is being replaced. */
  workerFailed: [shard: number, error: Error];
}

interface Pending {
  resolve: (value: never) => void;
  reject: (err: SluiceError) => void;
}

/** Strip a request to what `send` fills in itself. */
type RequestBody<R extends WorkerRequest> = R extends unknown ? Omit<R, 'id'> : never;

class Shard {
  port: MessagePort | undefined;
  ready = false;
  outbox: WorkerRequest[] = [];
  transfer: ArrayBuffer[] = [];
  scheduled = false;
  readonly pending = new Map<number, Pending>();
  /** Partitions open on this shard, to reopen after a worker failure. */
  readonly open = new Map<string, { dir: string; config: LogConfig }>();
  running: Promise<void> | undefined;

  constructor(readonly index: number) {}
}

export class PartitionEngine extends EventEmitter<EngineEvents> {
  readonly dataDir: string;
  readonly shardTable: ShardTable;
  private readonly pool: Piscina;
  private readonly shards: Shard[];
  private readonly options: Required<Omit<EngineOptions, 'dataDir' | 'workers'>>;
  private nextId = 1;
  private closing = false;
  /** Latest offsets reported per partition (updated before the replies of the same message). */
  private readonly offsets = new Map<string, { highWatermark: number; logStartOffset: number }>();

  private constructor(options: EngineOptions) {
    super();
    const workers = options.workers ?? os.availableParallelism();
    this.dataDir = options.dataDir;
    this.shardTable = new ShardTable(workers);
    this.options = {
      tickIntervalMs: options.tickIntervalMs ?? 1000,
      retentionCheckIntervalMs: options.retentionCheckIntervalMs ?? 300_000,
    };
    const workerFile = new URL(
      `../../workers/partition-worker${path.extname(import.meta.url)}`,
      import.meta.url,
    );
    // Node 20 cannot load .ts in a worker by itself: when running from source, load tsx there too.
    const fromSource = import.meta.url.endsWith('.ts');
    this.pool = new Piscina({
      filename: workerFile.href,
      minThreads: workers,
      maxThreads: workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: 2 ** 31 - 1,
      atomics: 'disabled',
      execArgv: [
        ...(fromSource ? ['--import', 'tsx'] : []),
        ...(process.env.SLUICE_WORKER_EXEC_ARGV?.split(' ').filter(Boolean) ?? []),
      ],
      name: 'default',
    });
    this.shards = Array.from({ length: workers }, (_, i) => new Shard(i));
  }

  /** Start the worker pool; resolves once every worker serves requests. */
  static async start(options: EngineOptions): Promise<PartitionEngine> {
    const engine = new PartitionEngine(options);
    await Promise.all(engine.shards.map((s) => engine.startShard(s)));
    return engine;
  }

  get workerCount(): number {
    return this.shards.length;
  }

  /** The last known high watermark of a partition (undefined when it is not open). */
  highWatermark(topic: string, partition: number): number | undefined {
    return this.offsets.get(partitionKey(topic, partition))?.highWatermark;
  }

  logStartOffset(topic: string, partition: number): number | undefined {
    return this.offsets.get(partitionKey(topic, partition))?.logStartOffset;
  }

  /** Open (creating if needed) a partition; running recovery when it was not closed cleanly. */
  openPartition(topic: string, partition: number, config: LogConfig): Promise<OpenReply> {
    const key = partitionKey(topic, partition);
    const dir = path.join(this.dataDir, key);
    const shard = this.shardFor(topic, partition);
    shard.open.set(key, { dir, config });
    return this.send<'open'>(shard, { op: 'open', key, dir, config });
  }

  /** Close a partition cleanly (its files stay). */
  async closePartition(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const shard = this.shardFor(topic, partition);
    await this.send<'close'>(shard, { op: 'close', key });
    shard.open.delete(key);
    this.offsets.delete(key);
  }

  /** Close a partition and delete its directory. */
  async deletePartition(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const shard = this.shardFor(topic, partition);
    shard.open.delete(key);
    await this.send<'delete'>(shard, { op: 'delete', key, dir: path.join(this.dataDir, key) });
    this.offsets.delete(key);
  }

  reconfigure(topic: string, partition: number, config: LogConfig): Promise<null> {
    const key = partitionKey(topic, partition);
    const shard = this.shardFor(topic, partition);
    const entry = shard.open.get(key);
    if (entry) entry.config = config;
    return this.send<'reconfigure'>(shard, { op: 'reconfigure', key, config });
  }

  /**
   * Append one RecordBatch v2. With `transfer: true` the engine may take the caller's buffer when
   * the view covers its whole ArrayBuffer; with `takeBuffer: true` the caller gives away the whole
   * ArrayBuffer behind the view, whatever else it holds (e.g. a received frame holding one batch
   * inside its envelope). A taken buffer moves to the worker and becomes unusable here; otherwise
   * the bytes are copied once.
   */
  append(
    topic: string,
    partition: number,
    batch: Uint8Array,
    options?: { transfer?: boolean; takeBuffer?: boolean },
  ): Promise<AppendReply> {
    const whole = batch.byteOffset === 0 && batch.byteLength === batch.buffer.byteLength;
    const owned =
      (options?.takeBuffer || (options?.transfer && whole)) && !(batch.buffer instanceof SharedArrayBuffer)
        ? batch
        : new Uint8Array(batch);
    const shard = this.shardFor(topic, partition);
    return this.send<'append'>(
      shard,
      { op: 'append', key: partitionKey(topic, partition), batch: owned },
      owned.buffer as ArrayBuffer,
    );
  }

  /** Whole batches from the one holding `offset`, up to maxBytes (at least one whole batch). */
  read(topic: string, partition: number, offset: number, maxBytes: number): Promise<ReadReply> {
    return this.send<'read'>(this.shardFor(topic, partition), {
      op: 'read',
      key: partitionKey(topic, partition),
      offset,
      maxBytes,
    });
  }

  listOffset(topic: string, partition: number, query: OffsetQuery): Promise<OffsetAnswer> {
    return this.send<'listOffset'>(this.shardFor(topic, partition), {
      op: 'listOffset',
      key: partitionKey(topic, partition),
      query,
    });
  }

  stats(topic: string, partition: number): Promise<LogStats> {
    return this.send<'stats'>(this.shardFor(topic, partition), {
      op: 'stats',
      key: partitionKey(topic, partition),
    });
  }

  deleteRecords(topic: string, partition: number, offset: number): Promise<{ logStartOffset: number }> {
    return this.send<'deleteRecords'>(this.shardFor(topic, partition), {
      op: 'deleteRecords',
      key: partitionKey(topic, partition),
      offset,
    });
  }

  truncate(topic: string, partition: number, offset: number): Promise<{ logEndOffset: number }> {
    return this.send<'truncate'>(this.shardFor(topic, partition), {
      op: 'truncate',
      key: partitionKey(topic, partition),
      offset,
    });
  }

  /** Run retention now (it also runs every retentionCheckIntervalMs). */
  retention(topic: string, partition: number): Promise<RetentionReply> {
    return this.send<'retention'>(this.shardFor(topic, partition), {
      op: 'retention',
      key: partitionKey(topic, partition),
    });
  }

  /** Close every partition cleanly (clean-shutdown markers) and stop the workers. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const results = await Promise.allSettled(
      this.shards.map((s) =>
        s.ready ? this.send<'shutdown'>(s, { op: 'shutdown' }) : Promise.resolve(null),
      ),
    );
    await Promise.allSettled(this.shards.map((s) => s.running));
    for (const s of this.shards) s.port?.close();
    await this.pool.destroy();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private shardFor(topic: string, partition: number): Shard {
    return this.shards[this.shardTable.shardOf(topic, partition)]!;
  }

  private send<K extends keyof OpResults>(
    shard: Shard,
    body: RequestBody<Extract<WorkerRequest, { op: K }>>,
    transfer?: ArrayBuffer,
  ): Promise<OpResults[K]> {
    if (this.closing && body.op !== 'shutdown') {
      return Promise.reject(new SluiceError('BROKER_SHUTTING_DOWN'));
    }
    const id = this.nextId++;
    const request = { ...body, id } as WorkerRequest;
    return new Promise<OpResults[K]>((resolve, reject) => {
      shard.pending.set(id, { resolve: resolve as (value: never) => void, reject });
      shard.outbox.push(request);
      if (transfer) shard.transfer.push(transfer);
      this.schedule(shard);
    });
  }

  private schedule(shard: Shard): void {
    if (shard.scheduled || !shard.ready) return;
    shard.scheduled = true;
    setImmediate(() => this.flush(shard));
  }

  private flush(shard: Shard): void {
    shard.scheduled = false;
    if (!shard.ready || !shard.port || shard.outbox.length === 0) return;
    const requests = shard.outbox;
    const transfer = shard.transfer;
    shard.outbox = [];
    shard.transfer = [];
    shard.port.postMessage({ requests }, transfer);
  }

  private receive(shard: Shard, msg: FromWorker | HostReady): void {
    if ('ready' in msg) return;
    // Events first: an append's reply must find the new high watermark already recorded.
    for (const event of msg.events) {
      if (event.type === 'offsets') {
        this.offsets.set(event.key, {
          highWatermark: event.highWatermark,
          logStartOffset: event.logStartOffset,
        });
        this.emit('offsets', event.key, event.highWatermark, event.logStartOffset);
      } else {
        this.emit('report', event);
      }
    }
    const acks = msg.acks;
    if (acks) {
      for (let at = 0; at < acks.length; at += ACK_FIELDS) {
        const id = acks[at]!;
        const pending = shard.pending.get(id);
        if (!pending) continue;
        shard.pending.delete(id);
        pending.resolve(unpackAck(acks, at) as never);
      }
    }
    for (const reply of msg.replies) {
      const pending = shard.pending.get(reply.id);
      if (!pending) continue;
      shard.pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.value as never);
      else pending.reject(SluiceError.from(reply.error));
    }
  }

  /** Run the host task on a worker and wait until it serves; reopen the shard's partitions first. */
  private startShard(shard: Shard): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    const task: HostTask = {
      port: port2,
      shard: shard.index,
      tickIntervalMs: this.options.tickIntervalMs,
      retentionCheckIntervalMs: this.options.retentionCheckIntervalMs,
    };
    shard.port = port1;
    const ready = new Promise<void>((resolve) => {
      port1.once('message', () => resolve());
    });
    port1.on('message', (msg: FromWorker | HostReady) => this.receive(shard, msg));
    shard.running = this.pool.run(task, { transferList: [port2] }).then(
      () => {
        shard.ready = false;
      },
      (err: Error) => this.workerFailed(shard, err),
    );
    return ready.then(() => {
      // Partitions first, so that queued requests find them open (the mailbox keeps the order).
      const reopen: WorkerRequest[] = [...shard.open].map(([key, { dir, config }]) => ({
        op: 'open',
        id: 0,
        key,
        dir,
        config,
      }));
      shard.outbox = [...reopen, ...shard.outbox];
      shard.ready = true;
      shard.scheduled = false;
      this.schedule(shard);
    });
  }

  private workerFailed(shard: Shard, err: Error): void {
    shard.ready = false;
    shard.port?.close();
    const error = errorData('WORKER_FAILED', `worker ${shard.index} failed: ${err.message}`);
    for (const p of shard.pending.values()) p.reject(SluiceError.from(error));
    shard.pending.clear();
    // Queued requests were pending too, and have just been failed.
    shard.outbox = [];
    shard.transfer = [];
    if (this.closing) return;
    this.emit('workerFailed', shard.index, err);
    void this.startShard(shard);
  }
}

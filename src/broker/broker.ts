/**
 * The broker process: wires the data directory, the partition engine (worker threads), the topic
 * manager, the HTTP server (health, metrics, and the WebSocket front door on the same port) together,
 * and takes them down again in order.
 *
 * Start: lock the data dir → cluster identity → worker pool → open every partition (recovering those
 * not closed cleanly) → listen → ready.
 * Stop (SIGTERM/SIGINT): not ready → stop accepting and reading requests → let in-flight requests
 * finish (parked fetches answer at once) → close connections (1001) → close every partition cleanly
 * (flush, clean-shutdown markers) → release the data dir.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BrokerConfig, ConfigSource, SettingKey } from '../config.ts';
import { GroupCoordinator } from '../coordinator/group-coordinator.ts';
import { BrokerMetrics } from '../metrics/broker-metrics.ts';
import type { BrokerContext } from '../router/broker-context.ts';
import { FetchWaiters } from '../router/fetch-waiters.ts';
import { KafkaFrontDoor } from '../router/kafka/kafka-front-door.ts';
import { PartitionEngine } from '../router/partition-engine.ts';
import { WsFrontDoor } from '../router/ws/ws-front-door.ts';
import { loadClusterMeta, lockDataDir, ProducerIdAllocator } from './data-dir.ts';
import { TopicManager } from './topic-manager.ts';

export const SERVER_VERSION = '0.1.0';

export interface BrokerLogger {
  info(message: string): void;
  error(message: string): void;
}

const silentLogger: BrokerLogger = { info: () => {}, error: () => {} };

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export class Broker {
  readonly config: BrokerConfig;
  readonly context: BrokerContext;
  readonly port: number;
  private readonly http: Server;
  private readonly ws: WsFrontDoor;
  private readonly kafka: KafkaFrontDoor;
  private readonly engine: PartitionEngine;
  private readonly metrics: BrokerMetrics;
  private readonly releaseLock: () => void;
  private readonly log: BrokerLogger;
  private ready = false;
  private stopping: Promise<void> | undefined;

  private constructor(parts: {
    config: BrokerConfig;
    context: BrokerContext;
    port: number;
    http: Server;
    ws: WsFrontDoor;
    kafka: KafkaFrontDoor;
    engine: PartitionEngine;
    metrics: BrokerMetrics;
    releaseLock: () => void;
    log: BrokerLogger;
  }) {
    this.config = parts.config;
    this.context = parts.context;
    this.port = parts.port;
    this.http = parts.http;
    this.ws = parts.ws;
    this.kafka = parts.kafka;
    this.engine = parts.engine;
    this.metrics = parts.metrics;
    this.releaseLock = parts.releaseLock;
    this.log = parts.log;
  }

  static async start(
    config: BrokerConfig,
    configSources: Record<SettingKey, ConfigSource>,
    log: BrokerLogger = silentLogger,
  ): Promise<Broker> {
    const dataDir = path.resolve(config['data.dir']);
    const lock = lockDataDir(dataDir);
    let engine: PartitionEngine | undefined;
    try {
      const meta = loadClusterMeta(dataDir, config['node.id']);
      const workers = config.workers > 0 ? config.workers : os.availableParallelism();
      engine = await PartitionEngine.start({
        dataDir,
        workers,
        retentionCheckIntervalMs: config['log.retention.check.interval.ms'],
      });
      // Metrics before anything else listens to the engine: no worker report is missed.
      const metrics = new BrokerMetrics({
        partitionLabels: config['metrics.partition.labels'],
        version: SERVER_VERSION,
      });
      const topics = new TopicManager(dataDir, engine, config, configSources);
      const started = Date.now();
      await topics.openAll();
      const partitions = topics.list().reduce((n, t) => n + t.partitions, 0);
      log.info(
        `opened ${topics.list().length} topics (${partitions} partitions) in ${Date.now() - started} ms`,
      );

      let broker: Broker | undefined;
      const http = createServer((req, res) => {
        if (broker) broker.serveHttp(req, res);
        else res.writeHead(503).end('starting\n');
      });
      const coordinator = await GroupCoordinator.start(engine, topics, {
        minSessionTimeoutMs: config['group.min.session.timeout.ms'],
        maxSessionTimeoutMs: config['group.max.session.timeout.ms'],
        initialRebalanceDelayMs: config['group.initial.rebalance.delay.ms'],
        offsetMetadataMaxBytes: config['offset.metadata.max.bytes'],
        offsetsRetentionMs: config['offsets.retention.minutes'] * 60_000,
        offsetsRetentionCheckIntervalMs: config['offsets.retention.check.interval.ms'],
        offsetsTopicPartitions: config['offsets.topic.num.partitions'],
      });
      coordinator.on('error', (err) =>
        log.error(`group coordinator: ${(err as Error)?.stack ?? String(err)}`),
      );
      const fetchWaiters = new FetchWaiters(engine);
      topics.on('deleted', (name) => fetchWaiters.wakeTopic(name));
      const advertisedHost =
        config['advertised.host'] ||
        (config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host);
      const advertised = { host: advertisedHost, port: config.port, kafkaPort: config['kafka.port'] };
      const context: BrokerContext = {
        config,
        configSources,
        nodeId: meta.nodeId,
        clusterId: meta.clusterId,
        advertised,
        engine,
        topics,
        producerIds: new ProducerIdAllocator(dataDir),
        fetchWaiters,
        coordinator,
        metrics,
      };
      const ws = new WsFrontDoor(
        http,
        context,
        {
          maxFrameBytes: config['ws.max.frame.bytes'],
          maxInFlight: config['ws.max.inflight.requests'],
          maxInFlightBytes: config['ws.max.inflight.bytes'],
          highWaterBytes: config['ws.send.buffer.high.water.bytes'],
        },
        SERVER_VERSION,
        (err) => log.error(`request failed unexpectedly: ${(err as Error)?.stack ?? String(err)}`),
      );
      const kafka = new KafkaFrontDoor(context, (err) =>
        log.error(`Kafka request failed unexpectedly: ${(err as Error)?.stack ?? String(err)}`),
      );
      metrics.attach({
        dataDir,
        engine,
        topics,
        defaultCleanupPolicy: config['log.cleanup.policy'],
        coordinator,
        connections: () => ({ ws: ws.connectionCount, kafka: kafka.connectionCount }),
        fetchesParked: () => fetchWaiters.size,
      });
      const port = await listen(http, config.port, config.host);
      advertised.port = port;
      advertised.kafkaPort = await kafka.listen(config['kafka.port'], config.host).catch((err: unknown) => {
        http.close();
        throw err;
      });
      broker = new Broker({
        config,
        context,
        port,
        http,
        ws,
        kafka,
        engine,
        metrics,
        releaseLock: lock.release,
        log,
      });
      broker.ready = true;
      return broker;
    } catch (err) {
      await engine?.close().catch(() => {});
      lock.release();
      throw err;
    }
  }

  get isReady(): boolean {
    return this.ready;
  }

  get wsUrl(): string {
    return `ws://${this.context.advertised.host}:${this.port}`;
  }

  /** Graceful shutdown; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.ready = false;
    this.http.close();
    const timeoutMs = this.config['shutdown.timeout.ms'];
    const [wsUnfinished, kafkaUnfinished] = await Promise.all([
      this.ws.close(timeoutMs),
      this.kafka.close(timeoutMs),
    ]);
    const unfinished = wsUnfinished + kafkaUnfinished;
    if (unfinished > 0)
      this.log.error(`${unfinished} requests were still in flight when the shutdown timeout ran out`);
    this.http.closeAllConnections();
    this.context.coordinator.close();
    try {
      await this.engine.close();
    } finally {
      this.releaseLock();
    }
  }

  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/metrics' || url.startsWith('/metrics?')) {
      this.serveMetrics(req, res);
      return;
    }
    if (url === '/healthz') {
      // Alive and serving (it answers only once start-up finished).
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (url === '/readyz') {
      const status = this.ready ? 200 : 503;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(this.ready ? 'ready\n' : 'shutting down\n');
      return;
    }
    if (url === '/' || url === '') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        `${JSON.stringify({
          server: 'sluice',
          version: SERVER_VERSION,
          nodeId: this.context.nodeId,
          clusterId: this.context.clusterId,
          websocket: this.wsUrl,
          topics: this.context.topics.list().length,
          connections: this.ws.connectionCount,
        })}\n`,
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  /** Prometheus text format, or OpenMetrics when the Accept header asks for it (docs/metrics.md). */
  private serveMetrics(req: IncomingMessage, res: ServerResponse): void {
    this.metrics.scrape(req.headers.accept).then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        this.log.error(`metrics scrape failed: ${(err as Error)?.stack ?? String(err)}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  }
}

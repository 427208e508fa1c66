/**
 * One Kafka client connection: cut frames, decode requests, run them through the API table, and
 * write the responses back in request order.
 *
 * Ordering. Kafka serves the requests of one connection one at a time, in order: a request sees
 * everything the requests before it did (a ListOffsets after an acks=0 Produce sees its records), and
 * a parked Fetch holds back everything behind it. So does this connection, with one exception:
 * consecutive Produce requests run together (a pipelining producer needs the overlap for throughput;
 * they are handed to the engine synchronously, in arrival order, so their appends keep that order).
 * Every request takes a slot in a queue when it is read, and responses leave only from the head, so
 * they go out in request order even when a later produce finishes first. A Produce with acks=0 takes
 * a silent slot (no bytes), or a closing one when it failed (Kafka closes the connection to tell an
 * acks=0 producer).
 *
 * Refusals. A frame larger than socket.request.max.bytes (seen from its size prefix, before anything
 * is allocated), a header or body that does not decode, an API key the broker does not serve, or a
 * version outside the advertised range closes the connection, as Kafka does. The one exception is
 * ApiVersions: an unsupported version gets Kafka's v0 error answer (api-versions.ts).
 *
 * Flow control (as the WebSocket front door): the connection stops reading its socket while
 * `maxInFlight` requests or `maxInFlightBytes` of request frames are outstanding, or while more than
 * `highWaterBytes` of responses wait (unsent in the socket, or finished but held behind an earlier
 * request); and no request starts while the socket holds more than `highWaterBytes` unsent, so a
 * Fetch does not read the log for a client that is not reading. Such a client holds at most about the
 * high-water mark plus one response plus the requests in flight.
 *
 * Zero copy: a response is encoded into chunks whose large pieces alias the record bytes the worker
 * returned; they are written corked (one writev) behind a 4-byte size prefix, never concatenated.
 *
 * Main thread only.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SluiceError } from '../../errors.ts';
import { API_KEYS, type ApiKey } from '../../protocol/kafka/api-keys.ts';
import {
  type DecodedRequest,
  decodeRequest,
  encodeResponse,
  peekRequestHeader,
  type RequestHeaderPrefix,
} from '../../protocol/kafka/request-codec.ts';
import type { BrokerContext } from '../broker-context.ts';
import { FetchReadAhead } from '../handlers/fetch.ts';
import { kafkaApi } from './api-table.ts';
import { unsupportedApiVersionsBody } from './api-versions.ts';
import { FRAME_PREFIX_BYTES, FrameReader } from './frame-reader.ts';
import { type KafkaApi, type KafkaEnv, type KafkaReply, NoResponse } from './kafka-api.ts';

export interface KafkaLimits {
  /** socket.request.max.bytes: the largest request frame. */
  maxFrameBytes: number;
  /** Requests outstanding before the connection stops reading. */
  maxInFlight: number;
  /** Bytes of request frames outstanding before the connection stops reading. */
  maxInFlightBytes: number;
  /** Response bytes waiting to be sent above which reading stops and no request starts. */
  highWaterBytes: number;
}

/** How long a connection closed by the broker may take to flush before it is destroyed. */
const END_GRACE_MS = 5000;

interface Slot {
  readonly requestBytes: number;
  /** pending: running · ready: response encoded · silent: no response · close: close the connection. */
  state: 'pending' | 'ready' | 'silent' | 'close';
  chunks: Uint8Array[];
  responseBytes: number;
}

/** A request read and decoded, waiting for its turn to run. */
interface Waiting {
  readonly concurrent: boolean;
  readonly run: () => void;
}

export class KafkaConnection {
  private readonly frames: FrameReader;
  private readonly queue: Slot[] = [];
  private readonly aborts = new AbortController();
  private readonly env: KafkaEnv;
  /** Request frame bytes of the queued slots. */
  private inFlightBytes = 0;
  /** Encoded responses waiting behind an earlier, unfinished request. */
  private heldBytes = 0;
  /** Requests read but not started yet (see Ordering). */
  private readonly waiting: Waiting[] = [];
  /** Requests started and not finished. */
  private running = 0;
  /** The one running request is not a concurrent one. */
  private runningAlone = false;
  private starting = false;
  private paused = false;
  private draining = false;
  private readEnded = false;
  private ending = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: Socket,
    ctx: BrokerContext,
    private readonly limits: KafkaLimits,
    private readonly onError: (err: unknown) => void,
  ) {
    this.frames = new FrameReader(limits.maxFrameBytes);
    this.env = {
      ctx,
      signal: this.aborts.signal,
      clientHost: socket.remoteAddress ?? '',
      readAhead: new FetchReadAhead(),
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(chunk);
      this.pump();
    });
    // The server allows half-open sockets: a client may send its requests and shut down its side;
    // it still gets every answer before the broker ends the connection.
    socket.on('end', () => {
      this.readEnded = true;
      this.endIfDone();
    });
    socket.on('drain', () => {
      this.startWaiting();
      this.maybeResume();
    });
    socket.on('close', () => this.onClose());
    socket.on('error', () => {}); // 'close' follows; a broken client is not the broker's error
  }

  /** Requests read and not yet answered. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when no request is outstanding (or the connection closed). */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Shutdown: read no more requests; parked fetches answer now with what they have. */
  drain(): void {
    this.draining = true;
    this.pause();
    this.aborts.abort();
  }

  /** End the connection (after what was written), destroying it if it does not close within graceMs. */
  close(graceMs = 1000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), graceMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.end();
    });
  }

  private pump(): void {
    while (!this.paused && !this.ending && !this.closed) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.frames.next();
      } catch (err) {
        this.refuse(err);
        return;
      }
      if (frame === undefined) return;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Uint8Array): void {
    let header: RequestHeaderPrefix;
    try {
      header = peekRequestHeader(frame);
    } catch (err) {
      this.refuse(err);
      return;
    }
    const api = kafkaApi(header.apiKey);
    if (!api) {
      this.refuse(new SluiceError('INVALID_REQUEST', `Kafka API key ${header.apiKey} is not served`));
      return;
    }
    const [min, max] = api.versions;
    if (!(header.apiVersion >= min && header.apiVersion <= max)) {
      if (header.apiKey === API_KEYS.ApiVersions) {
        const slot = this.enqueue(frame.byteLength);
        this.finish(slot, API_KEYS.ApiVersions, 0, header.correlationId, unsupportedApiVersionsBody());
        return;
      }
      this.refuse(new SluiceError('UNSUPPORTED_VERSION', `API ${header.apiKey} v${header.apiVersion}`));
      return;
    }
    let request: DecodedRequest;
    try {
      request = decodeRequest(frame);
    } catch (err) {
      this.refuse(err);
      return;
    }
    const slot = this.enqueue(frame.byteLength);
    this.waiting.push({ concurrent: api.concurrent === true, run: () => this.run(api, request, slot) });
    this.startWaiting();
  }

  private enqueue(requestBytes: number): Slot {
    const slot: Slot = { requestBytes, state: 'pending', chunks: [], responseBytes: 0 };
    this.queue.push(slot);
    this.inFlightBytes += requestBytes;
    if (this.queue.length >= this.limits.maxInFlight || this.inFlightBytes >= this.limits.maxInFlightBytes)
      this.pause();
    return slot;
  }

  /** Start the waiting requests whose turn has come (see Ordering and Flow control). */
  private startWaiting(): void {
    if (this.starting) return; // a request that finishes synchronously lands here; the loop goes on
    this.starting = true;
    try {
      for (
        let next = this.waiting[0];
        next !== undefined && !this.closed && !this.ending;
        next = this.waiting[0]
      ) {
        if (this.socket.writableLength > this.limits.highWaterBytes) return; // 'drain' resumes
        if (next.concurrent ? this.runningAlone : this.running > 0) return; // a finish resumes
        this.waiting.shift();
        this.running++;
        this.runningAlone = !next.concurrent;
        next.run();
      }
    } finally {
      this.starting = false;
    }
  }

  private run(api: KafkaApi<ApiKey>, request: DecodedRequest, slot: Slot): void {
    const { apiKey, apiVersion } = request;
    const correlationId = request.header.correlationId;
    // Metrics (src/metrics): count and time the request by API when it is answered or fails.
    const metrics = this.env.ctx.metrics;
    const startedAt = performance.now();
    const done = (reply: KafkaReply<ApiKey>) => {
      metrics?.kafkaRequestDone(apiKey, startedAt);
      this.running--;
      this.runningAlone = false;
      this.finish(slot, apiKey, apiVersion, correlationId, reply);
      this.startWaiting();
    };
    const fail = (err: unknown) => {
      metrics?.kafkaRequestDone(apiKey, startedAt, err);
      this.failed(err);
    };
    let reply: KafkaReply<ApiKey> | Promise<KafkaReply<ApiKey>>;
    try {
      // The table is keyed by API key, so `request` is the request type of `api`.
      reply = api.handle(request as never, this.env);
    } catch (err) {
      fail(err);
      return;
    }
    if (reply instanceof Promise) reply.then(done, fail);
    else done(reply);
  }

  private finish(
    slot: Slot,
    apiKey: ApiKey,
    apiVersion: number,
    correlationId: number,
    reply: KafkaReply<ApiKey>,
  ): void {
    if (this.closed) return;
    if (reply instanceof NoResponse) {
      slot.state = reply.closeConnection ? 'close' : 'silent';
    } else {
      try {
        slot.chunks = encodeResponse(apiKey, apiVersion, correlationId, reply as never);
      } catch (err) {
        this.failed(err);
        return;
      }
      for (const c of slot.chunks) slot.responseBytes += c.byteLength;
      slot.state = 'ready';
      this.heldBytes += slot.responseBytes;
    }
    this.flush();
  }

  /** Write every finished response at the head of the queue. */
  private flush(): void {
    if (this.ending) return; // the connection is closing: what is left goes unanswered
    let head = this.queue[0];
    if (head === undefined || head.state === 'pending') {
      if (this.heldBytes > this.limits.highWaterBytes) this.pause();
      return;
    }
    this.socket.cork();
    while (head !== undefined && head.state !== 'pending') {
      this.queue.shift();
      this.inFlightBytes -= head.requestBytes;
      if (head.state === 'close') {
        this.socket.uncork();
        this.end();
        return;
      }
      if (head.state === 'ready') {
        this.heldBytes -= head.responseBytes;
        const size = Buffer.allocUnsafe(FRAME_PREFIX_BYTES);
        size.writeInt32BE(head.responseBytes);
        this.socket.write(size);
        for (const c of head.chunks) this.socket.write(c);
      }
      head = this.queue[0];
    }
    this.socket.uncork();
    if (this.socket.writableLength + this.heldBytes > this.limits.highWaterBytes) this.pause();
    this.maybeResume();
    if (this.queue.length === 0) {
      this.resolveIdle();
      this.endIfDone();
    }
  }

  /** A request the broker refuses to serve: close at once, as Kafka does. */
  private refuse(reason: unknown): void {
    this.env.ctx.metrics?.kafkaRefused(reason); // metrics: counted as api="unknown" by error name
    this.destroy();
  }

  /** A handler or encoder failed unexpectedly: the response cannot be built, so the connection goes. */
  private failed(err: unknown): void {
    if (!(err instanceof SluiceError)) this.onError(err);
    this.destroy();
  }

  private destroy(): void {
    this.closed = true; // before 'close' arrives: nothing more is started or written
    this.aborts.abort();
    this.socket.destroy();
  }

  private end(): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.aborts.abort();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  private endIfDone(): void {
    if (this.readEnded && this.queue.length === 0) this.end();
  }

  private pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.closed || this.draining || this.ending) return;
    if (
      this.queue.length < this.limits.maxInFlight &&
      this.inFlightBytes < this.limits.maxInFlightBytes &&
      this.socket.writableLength + this.heldBytes <= this.limits.highWaterBytes / 2
    ) {
      this.paused = false;
      // Frames already received come first; they may pause the connection again.
      this.pump();
      if (!this.paused) this.socket.resume();
    }
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private onClose(): void {
    this.closed = true;
    this.aborts.abort();
    this.resolveIdle();
  }
}

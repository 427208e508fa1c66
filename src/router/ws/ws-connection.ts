/**
 * One WebSocket client connection: decode frames, validate, dispatch to handlers, encode replies.
 *
 * Limits (docs/protocol.md): frames above `maxFrameBytes` never get here (ws closes with 1009 before
 * buffering them); text frames close with 1003; undecodable frames close with 1002.
 *
 * Flow control keeps a connection's memory bounded whatever the client does: the connection stops
 * reading its socket while `maxInFlight` requests or `maxInFlightBytes` of request frames are
 * outstanding, or while more than `highWaterBytes` of responses wait to be sent; and a fetch does not
 * read the log while responses are backed up (it waits for the socket to drain first), so a client
 * that stops reading holds at most the high-water mark plus the requests in flight.
 *
 * Main thread only.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RawData, WebSocket } from 'ws';
import { ERRORS, SluiceError, toErrorData } from '../../errors.ts';
import { decodeMessage, encodeMessageChunks } from '../../protocol/wire/envelope.ts';
import { type AnyRequest, type HelloResponse, PROTOCOL_VERSION } from '../../protocol/wire/ops.ts';
import { parseRequest } from '../../protocol/wire/validate.ts';
import type { BrokerContext } from '../broker-context.ts';
import { FetchReadAhead } from '../handlers/fetch.ts';
import { produce } from '../handlers/produce.ts';
import { type RequestContext, WS_HANDLERS } from './dispatch.ts';

export interface WsLimits {
  maxFrameBytes: number;
  /** Requests outstanding before the connection stops reading. */
  maxInFlight: number;
  /** Bytes of request frames outstanding before the connection stops reading. */
  maxInFlightBytes: number;
  /** Unsent response bytes above which reading stops and fetches wait before reading the log. */
  highWaterBytes: number;
}

/** Close codes (RFC 6455). */
const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_GOING_AWAY = 1001;

function closeReason(text: string): string {
  // A close reason is at most 123 bytes of UTF-8.
  const bytes = Buffer.from(text);
  return bytes.length <= 123
    ? text
    : bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD+$/, '') + '…';
}

export class WsConnection {
  private inFlight = 0;
  private inFlightBytes = 0;
  private paused = false;
  private drainWaiters: (() => void)[] = [];
  /** Byte budgets of the fetches running now (see gatedFetch). */
  private reservedBytes = 0;
  private draining = false;
  private closed = false;
  private readonly aborts = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private readonly requestContext: RequestContext;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    private readonly ctx: BrokerContext,
    private readonly limits: WsLimits,
    private readonly serverVersion: string,
    private readonly onError: (err: unknown) => void,
  ) {
    this.requestContext = {
      signal: this.aborts.signal,
      clientId: '',
      clientHost: socket.remoteAddress ?? '',
      readAhead: new FetchReadAhead(),
    };
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', () => {}); // 'close' follows; a broken client is not the broker's error
    socket.on('drain', () => this.drained());
  }

  get pending(): number {
    return this.inFlight;
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Shutdown: read no more requests; parked fetches answer now with what they have. */
  drain(): void {
    this.socket.pause();
    this.paused = true;
    this.draining = true;
    this.aborts.abort();
  }

  /** Send a close frame; give the client `graceMs` to answer, then drop the socket. */
  close(code = CLOSE_GOING_AWAY, reason = 'broker shutting down', graceMs = 1000): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ws.close(code, reason);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, graceMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      this.ws.close(CLOSE_UNSUPPORTED_DATA, 'INVALID_FRAME: only binary messages are accepted');
      return;
    }
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    let envelope: ReturnType<typeof decodeMessage>;
    try {
      envelope = decodeMessage(bytes);
    } catch (err) {
      this.ws.close(CLOSE_PROTOCOL_ERROR, closeReason(`INVALID_FRAME: ${(err as Error).message}`));
      return;
    }
    const id = envelope.id;
    // Metrics (src/metrics): each request is counted and timed by op once it is answered, below.
    const metrics = this.ctx.metrics;
    const startedAt = performance.now();
    let request: AnyRequest;
    try {
      request = parseRequest(envelope);
    } catch (err) {
      this.reply({ id, error: this.wireError(err) });
      metrics?.wsRequestDone(String(envelope.op), startedAt, err);
      return;
    }
    const size = bytes.byteLength;
    this.inFlight++;
    this.inFlightBytes += size;
    if (this.inFlight >= this.limits.maxInFlight || this.inFlightBytes >= this.limits.maxInFlightBytes)
      this.pause();
    let result: unknown;
    try {
      // A frame that has its own ArrayBuffer (ws allocates one for large messages) is given to the
      // produce handler, which may move it to the worker instead of copying the batch out of it.
      const ownBuffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      result =
        request.op === 'fetch'
          ? this.gatedFetch(request)
          : request.op === 'produce'
            ? produce(this.ctx, request, { mayTakeBuffers: ownBuffer })
            : this.dispatch(request);
    } catch (err) {
      result = Promise.reject(err);
    }
    const noReply = request.op === 'produce' && request.acks === 0;
    Promise.resolve(result).then(
      (response) => {
        if (!noReply) this.reply({ id, ...(response as object) });
        metrics?.wsRequestDone(request.op, startedAt);
        this.done(size);
      },
      (err: unknown) => {
        if (!(err instanceof SluiceError)) this.onError(err);
        if (!noReply) this.reply({ id, error: this.wireError(err) });
        metrics?.wsRequestDone(request.op, startedAt, err);
        this.done(size);
      },
    );
  }

  private dispatch(request: AnyRequest): unknown {
    if (request.op === 'hello') {
      if (request.clientId !== undefined) this.requestContext.clientId = request.clientId;
      const hello: HelloResponse = {
        protocolVersion: PROTOCOL_VERSION,
        server: 'sluice',
        serverVersion: this.serverVersion,
        nodeId: this.ctx.nodeId,
        maxFrameBytes: this.limits.maxFrameBytes,
        maxInFlight: this.limits.maxInFlight,
      };
      return hello;
    }
    const handler = WS_HANDLERS[request.op] as (
      ctx: BrokerContext,
      req: AnyRequest,
      conn: RequestContext,
    ) => unknown;
    return handler(this.ctx, request, this.requestContext);
  }

  private wireError(err: unknown) {
    const data = toErrorData(err);
    return { code: data.code, message: data.message, retriable: ERRORS[data.code].retriable };
  }

  private reply(message: object): void {
    if (this.closed) return;
    // One WebSocket message, sent as several frames when it carries large byte strings (fetched
    // record batches), so those go to the socket as they are instead of being copied.
    const chunks = encodeMessageChunks(message);
    const last = chunks.length - 1;
    for (let i = 0; i <= last; i++) this.ws.send(chunks[i]!, { binary: true, fin: i === last });
    if (this.ws.bufferedAmount > this.limits.highWaterBytes) this.pause();
  }

  /**
   * Run a fetch once its byte budget fits: unsent responses plus the budgets of the fetches already
   * running must stay under the high-water mark (a lone fetch runs whenever the unsent responses are
   * below the mark, however large its budget). The budget is held until
   * its response is queued, so concurrent fetches never read more than the socket can take.
   */
  private async gatedFetch(request: Extract<AnyRequest, { op: 'fetch' }>): Promise<unknown> {
    const perPartition = request.topics.reduce(
      (sum, t) => sum + t.partitions.reduce((s, p) => s + (p.maxBytes ?? 1048576), 0),
      0,
    );
    const budget = Math.min(request.maxBytes ?? 50 * 1024 * 1024, perPartition);
    const high = this.limits.highWaterBytes;
    while (
      !this.closed &&
      (this.ws.bufferedAmount > high ||
        (this.reservedBytes > 0 && this.ws.bufferedAmount + this.reservedBytes + budget > high))
    ) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    this.reservedBytes += budget;
    try {
      return await this.dispatch(request);
    } finally {
      // Released after the caller has queued the reply (the reply is sent in the same microtask
      // chain as this continuation); wake waiting fetches on the next turn.
      queueMicrotask(() => {
        this.reservedBytes -= budget;
        this.wakeFetches();
      });
    }
  }

  private wakeFetches(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private drained(): void {
    this.wakeFetches();
    this.maybeResume();
  }

  private done(size: number): void {
    this.inFlight--;
    this.inFlightBytes -= size;
    this.maybeResume();
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.closed || this.draining) return;
    if (
      this.inFlight < this.limits.maxInFlight &&
      this.inFlightBytes < this.limits.maxInFlightBytes &&
      this.ws.bufferedAmount <= this.limits.highWaterBytes / 2
    ) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private onClose(): void {
    this.closed = true;
    this.aborts.abort();
    this.requestContext.readAhead.clear();
    this.wakeFetches();
  }
}

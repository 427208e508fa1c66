/**
 * One WebSocket to a Sluice broker (docs/protocol.md): correlation ids, many requests in flight with
 * responses in any order, a per-request timeout, fire-and-forget sends (produce with acks 0), `hello`
 * on every (re)connect, and reconnection with exponential backoff and jitter.
 *
 * Failure model, which callers build their retries on: when the socket drops, every request that
 * was sent or was waiting for a slot fails with CONNECTION_CLOSED (retriable: the broker may or may
 * not have acted on it); requests made while reconnecting wait for the new socket, bounded by their
 * own timeout. Nothing is resent here: only the caller knows whether a retry is safe (the
 * idempotent producer resends the same batch bytes so that the broker can drop duplicates).
 *
 * The number of requests in flight is bounded (the smaller of `maxInFlight` and the broker's
 * `hello.maxInFlight`); further requests queue here in order, so that the broker never has to stop
 * reading the socket.
 */
import { SluiceError } from '../errors.ts';
import { decodeMessage, encodeMessage, encodeMessageChunks } from '../protocol/wire/envelope.ts';
import {
  type HelloResponse,
  type OpBody,
  type OpName,
  type OpResponse,
  PROTOCOL_VERSION,
  type WireError,
} from '../protocol/wire/ops.ts';
import { backoffDelay } from './backoff.ts';
import {
  CONNECTION_DEFAULTS,
  type ConnectionOptions,
  type ConnectionState,
  type ReconnectOptions,
} from './connection-options.ts';
import { closedByClient, type PendingRequest, PendingRequests, settle } from './pending-requests.ts';
import { type ClientSocket, defaultSocketFactory, type SocketFactory } from './socket.ts';
import type { ClientTransport, RequestOptions } from './transport.ts';

export { CONNECTION_DEFAULTS, type ConnectionOptions, type ConnectionState, type ReconnectOptions };

/**
 * Ops whose result carries a group-level `error` next to other fields (docs/protocol.md, "Consumer
 * groups": MEMBER_ID_REQUIRED comes with the member id to join again with). The envelope cannot tell
 * such a result from a failed request, so these ops resolve with whatever came back and the caller
 * checks `error` (see ClientTransport.request).
 */
export const RESULT_ERROR_OPS: ReadonlySet<OpName> = new Set([
  'joinGroup',
  'syncGroup',
  'heartbeat',
  'offsetFetch',
]);

/** A WebSocket connection to a Sluice broker; see the module comment for its failure model. */
export class Connection implements ClientTransport {
  readonly #urls: readonly string[];
  readonly #clientId: string | undefined;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #maxInFlight: number;
  readonly #reconnect: ReconnectOptions | false;
  readonly #factory: SocketFactory | undefined;
  #state: ConnectionState = 'idle';
  #socket: ClientSocket | undefined;
  #generation = 0;
  #urlIndex = 0;
  #limit = 1;
  #maxFrameBytes = Number.POSITIVE_INFINITY;
  #server: HelloResponse | undefined;
  #everOpened = false;
  #connecting: Promise<void> | undefined;
  #sleep: { timer: ReturnType<typeof setTimeout>; wake(): void } | undefined;
  #onClosed: (() => void) | undefined;
  #opening: ClientSocket | undefined;
  #helloPending: PendingRequest | undefined;
  #abortOpening: ((error: Error) => void) | undefined;
  readonly #pending = new PendingRequests();
  #reconnects = 0;

  /** A connection to `options.bootstrap`; nothing happens until `connect()` or the first request. */
  constructor(options: ConnectionOptions = {}) {
    const bootstrap = options.bootstrap ?? CONNECTION_DEFAULTS.bootstrap;
    this.#urls = typeof bootstrap === 'string' ? [bootstrap] : [...bootstrap];
    if (this.#urls.length === 0) throw new SluiceError('INVALID_CONFIG', 'bootstrap lists no broker URL');
    this.#clientId = options.clientId;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? CONNECTION_DEFAULTS.requestTimeoutMs;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs;
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? CONNECTION_DEFAULTS.maxInFlight);
    this.#reconnect =
      options.reconnect === false ? false : { ...CONNECTION_DEFAULTS.reconnect, ...options.reconnect };
    this.#factory = options.socketFactory;
  }

  /** Current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The broker's `hello` answer on the current socket. */
  get serverInfo(): HelloResponse | undefined {
    return this.#server;
  }

  /** Successful reconnections after a drop, since construction. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Requests sent and awaiting their response. */
  get inFlight(): number {
    return this.#pending.sentCount;
  }

  /** Connect (or wait for the connection in progress). Rejects with CONNECTION_CLOSED if no broker answers. */
  connect(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(closedByClient());
    if (this.#state === 'open') return Promise.resolve();
    return this.#startConnecting();
  }

  /** Send a request; see ClientTransport.request. */
  request<K extends OpName>(op: K, body: OpBody<K>, options?: RequestOptions): Promise<OpResponse<K>> {
    return this.#submit(op, body, false, options?.timeoutMs) as Promise<OpResponse<K>>;
  }

  /** Send a request that gets no response (produce with acks 0); see ClientTransport.send. */
  send<K extends OpName>(op: K, body: OpBody<K>): Promise<void> {
    return this.#submit(op, body, true, undefined) as Promise<void>;
  }

  /** Close the socket; pending requests fail with CONNECTION_CLOSED. Resolves once the socket closed. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#sleep?.wake();
    this.#pending.failAll(closedByClient());
    // A socket still opening would otherwise come up after the close and say hello.
    this.#opening?.close(1000, 'client closing');
    this.#opening = undefined;
    this.#abortOpening?.(new Error('closed by the client'));
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      this.#onClosed = () => {
        clearTimeout(timer);
        resolve();
      };
      socket.close(1000, 'client closing');
    });
  }

  #submit(op: OpName, body: object, noReply: boolean, timeoutMs: number | undefined): Promise<unknown> {
    if (this.#state === 'closed') return Promise.reject(closedByClient());
    return new Promise((resolve, reject) => {
      const pending = this.#pending;
      const p = pending.create(
        op,
        body,
        noReply,
        timeoutMs ?? this.#requestTimeoutMs,
        resolve,
        reject,
        (timedOut) => {
          pending.remove(timedOut);
          settle(
            timedOut,
            new SluiceError('CLIENT_TIMEOUT', `${op}: no response within ${timedOut.timeoutMs} ms`),
          );
          this.#pump();
        },
      );
      if (this.#state === 'open' && pending.waitingCount === 0 && pending.sentCount < this.#limit) {
        this.#transmit(p);
      } else {
        pending.wait(p);
        if (this.#state === 'idle') this.#startConnecting().catch(() => {});
      }
    });
  }

  #transmit(p: PendingRequest): void {
    const socket = this.#socket;
    if (!socket) {
      settle(p, new SluiceError('CONNECTION_CLOSED', 'not connected'));
      return;
    }
    this.#pending.assignId(p);
    let chunks: Uint8Array[];
    try {
      // Record batches stay where they are: the message goes out as chunks when the socket can.
      const message = { ...p.body, id: p.id, op: p.op };
      chunks = socket.sendChunks ? encodeMessageChunks(message) : [encodeMessage(message)];
    } catch (err) {
      settle(p, new SluiceError('INVALID_REQUEST', `cannot encode ${p.op}: ${(err as Error).message}`));
      return;
    }
    let length = 0;
    for (const c of chunks) length += c.byteLength;
    if (length > this.#maxFrameBytes) {
      const message = `${p.op} request of ${length} bytes exceeds the broker's maxFrameBytes ${this.#maxFrameBytes}`;
      settle(p, new SluiceError('FRAME_TOO_LARGE', message));
      return;
    }
    const send = (done?: (error?: Error) => void) => {
      if (chunks.length === 1) socket.send(chunks[0]!, done);
      else socket.sendChunks!(chunks, done);
    };
    if (p.noReply) {
      send((err) => settle(p, err ? new SluiceError('CONNECTION_CLOSED', err.message) : undefined));
    } else {
      this.#pending.markSent(p);
      send();
    }
  }

  #pump(): void {
    const pending = this.#pending;
    while (this.#state === 'open' && pending.waitingCount > 0 && pending.sentCount < this.#limit) {
      this.#transmit(pending.nextWaiting()!);
    }
  }

  #onMessage(data: Uint8Array): void {
    let message: { id: number; error?: WireError };
    try {
      message = decodeMessage(data);
    } catch (err) {
      this.#dropSocket(`undecodable response: ${(err as Error).message}`);
      return;
    }
    const p = this.#pending.takeSent(message.id);
    if (!p) return; // timed out earlier: the late answer has no one waiting
    if (message.error && !RESULT_ERROR_OPS.has(p.op)) settle(p, SluiceError.from(message.error));
    else settle(p, undefined, message);
    this.#pump();
  }

  #dropSocket(reason: string): void {
    const socket = this.#socket;
    if (!socket) return;
    // 1000: browsers refuse other client close codes; the reason says what went wrong.
    socket.close(1000, reason.slice(0, 120));
    this.#lost(1000, reason);
  }

  /** The current socket is gone (closed by the broker, the network, or a protocol error). */
  #lost(code: number, reason: string): void {
    this.#generation++;
    this.#socket = undefined;
    this.#server = undefined;
    const detail = `connection closed (${code}${reason ? `: ${reason}` : ''})`;
    this.#pending.failAll(new SluiceError('CONNECTION_CLOSED', detail));
    if (this.#state === 'closed') return;
    this.#state = 'idle';
    if (this.#reconnect === false) return;
    this.#startConnecting().then(
      () => this.#reconnects++,
      () => {},
    );
  }

  #startConnecting(): Promise<void> {
    this.#connecting ??= this.#connectLoop().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connectLoop(): Promise<void> {
    this.#state = 'connecting';
    const reconnect = this.#reconnect;
    const deadline = Date.now() + this.#connectTimeoutMs;
    let lastError: Error | undefined;
    for (let attempt = 0; ; attempt++) {
      for (let i = 0; i < this.#urls.length; i++) {
        if (this.#isClosed()) throw closedByClient();
        const url = this.#urls[this.#urlIndex++ % this.#urls.length]!;
        try {
          // Each attempt after a drop gets the full connect timeout; the first connection shares one.
          await this.#open(
            url,
            this.#everOpened ? this.#connectTimeoutMs : Math.max(1, deadline - Date.now()),
          );
          return;
        } catch (err) {
          lastError = err as Error;
        }
      }
      if (this.#isClosed()) throw closedByClient();
      // The first connection is bounded by connectTimeoutMs; after a drop, by maxAttempts.
      if (
        reconnect === false ||
        (this.#everOpened ? attempt + 1 >= reconnect.maxAttempts : Date.now() >= deadline)
      ) {
        const error = new SluiceError(
          'CONNECTION_CLOSED',
          `cannot connect to ${this.#urls.join(', ')}: ${lastError?.message ?? 'no answer'}`,
        );
        this.#state = 'idle';
        this.#pending.failAll(error);
        throw error;
      }
      await this.#pause(backoffDelay(reconnect, attempt));
    }
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#sleep = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleep = { timer, wake };
    });
  }

  /** Open one socket and say hello; resolves when the connection is usable. */
  async #open(url: string, timeoutMs: number): Promise<void> {
    const factory = this.#factory ?? (await defaultSocketFactory());
    const generation = ++this.#generation;
    await new Promise<void>((resolve, reject) => {
      let opened = false;
      let socketError: Error | undefined;
      let helloGeneration = -1;
      const fail = (error: Error): void => {
        clearTimeout(timer);
        if (this.#opening === socket) this.#opening = undefined;
        // A hello still waiting on this socket would hold an in-flight slot until its timeout.
        const hello = this.#helloPending;
        if (hello && generation === helloGeneration) {
          this.#helloPending = undefined;
          this.#pending.remove(hello);
          settle(hello, new SluiceError('CONNECTION_CLOSED', error.message));
        }
        if (this.#abortOpening === fail) this.#abortOpening = undefined;
        reject(error);
      };
      this.#abortOpening = fail;
      const timer = setTimeout(() => {
        this.#generation++;
        socket?.close(1000, 'connect timeout');
        fail(new Error(`no connection to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      let socket: ClientSocket | undefined;
      try {
        socket = factory(url, {
          onOpen: () => {
            if (generation !== this.#generation || this.#state === 'closed') return;
            opened = true;
            const open = socket!;
            helloGeneration = generation;
            this.#hello(open).then(
              (hello) => {
                this.#helloPending = undefined;
                if (generation !== this.#generation) return;
                clearTimeout(timer);
                this.#opening = undefined;
                this.#server = hello;
                this.#limit = Math.max(
                  1,
                  Math.min(this.#maxInFlight, hello.maxInFlight || this.#maxInFlight),
                );
                this.#maxFrameBytes = hello.maxFrameBytes || Number.POSITIVE_INFINITY;
                this.#state = 'open';
                this.#everOpened = true;
                resolve();
                this.#pump();
              },
              (err: Error) => {
                this.#helloPending = undefined;
                if (generation !== this.#generation) return;
                this.#generation++;
                this.#socket = undefined;
                open.close(1000, 'hello failed');
                fail(err);
              },
            );
          },
          onMessage: (data) => {
            if (generation === this.#generation) this.#onMessage(data);
          },
          onText: () => {
            if (generation === this.#generation) this.#dropSocket('the broker sent a text message');
          },
          onError: (err) => {
            socketError = err;
          },
          onClose: (code, reason) => {
            if (this.#state === 'closed') {
              this.#onClosed?.();
              fail(new Error('closed by the client'));
              return;
            }
            if (generation !== this.#generation) return;
            if (this.#state === 'open') {
              this.#lost(code, reason);
              return;
            }
            this.#generation++;
            this.#socket = undefined;
            const why = socketError?.message ?? `closed with ${code}${reason ? ` ${reason}` : ''}`;
            fail(new Error(opened ? `${url} closed during hello: ${why}` : `${url}: ${why}`));
          },
        });
        this.#opening = socket;
      } catch (err) {
        fail(err as Error);
      }
    });
  }

  /** `hello` goes straight onto the new socket, ahead of the requests waiting for it. */
  #hello(socket: ClientSocket): Promise<HelloResponse> {
    return new Promise((resolve, reject) => {
      const body = {
        protocolVersion: PROTOCOL_VERSION,
        ...(this.#clientId ? { clientId: this.#clientId } : {}),
      };
      const p = this.#pending.create(
        'hello',
        body,
        false,
        this.#requestTimeoutMs,
        resolve as (value: unknown) => void,
        reject,
        (timedOut) => {
          this.#pending.remove(timedOut);
          settle(
            timedOut,
            new SluiceError('CLIENT_TIMEOUT', `hello: no response within ${timedOut.timeoutMs} ms`),
          );
        },
      );
      this.#socket = socket;
      this.#helloPending = p;
      this.#transmit(p);
    });
  }
}

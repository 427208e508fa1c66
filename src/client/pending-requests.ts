/**
 * The requests of one Connection that have not been answered: those sent (by correlation id) and
 * those waiting for a slot in the in-flight window or for the socket, in order. Each request is
 * settled exactly once, by its answer, its timeout, or a failure of the whole connection.
 */
import { SluiceError } from '../errors.ts';
import type { OpName } from '../protocol/wire/ops.ts';

/** A request on its way. */
export interface PendingRequest {
  /** Correlation id, given when the request is sent. */
  id: number;
  op: OpName;
  body: object;
  /** acks 0 produce: settled once written, no answer expected. */
  noReply: boolean;
  timeoutMs: number;
  /** Cleared once settled. */
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(value: unknown): void;
  reject(error: SluiceError): void;
}

/** Sent and waiting requests of a connection. */
export class PendingRequests {
  readonly #sent = new Map<number, PendingRequest>();
  #waiting: PendingRequest[] = [];
  #lastId = 0;

  /** Requests sent and awaiting their answer. */
  get sentCount(): number {
    return this.#sent.size;
  }

  /** Requests not sent yet. */
  get waitingCount(): number {
    return this.#waiting.length;
  }

  /** A new request with its timeout running; `onTimeout` runs if it is not settled in time. */
  create(
    op: OpName,
    body: object,
    noReply: boolean,
    timeoutMs: number,
    resolve: (value: unknown) => void,
    reject: (error: SluiceError) => void,
    onTimeout: (p: PendingRequest) => void,
  ): PendingRequest {
    const p: PendingRequest = { id: 0, op, body, noReply, timeoutMs, timer: undefined, resolve, reject };
    p.timer = setTimeout(() => onTimeout(p), timeoutMs);
    return p;
  }

  /** Queue a request until it can be sent. */
  wait(p: PendingRequest): void {
    this.#waiting.push(p);
  }

  /** The oldest waiting request. */
  nextWaiting(): PendingRequest | undefined {
    return this.#waiting.shift();
  }

  /** Give `p` a correlation id unique among the requests in flight (unsigned 32-bit, wrapping). */
  assignId(p: PendingRequest): void {
    let id = this.#lastId;
    do id = id >= 0xffffffff ? 1 : id + 1;
    while (this.#sent.has(id));
    this.#lastId = id;
    p.id = id;
  }

  /** `p` was sent and awaits the answer with its id. */
  markSent(p: PendingRequest): void {
    this.#sent.set(p.id, p);
  }

  /** Take the sent request an answer is for (undefined: it timed out earlier). */
  takeSent(id: number): PendingRequest | undefined {
    const p = this.#sent.get(id);
    if (p) this.#sent.delete(id);
    return p;
  }

  /** Forget `p` wherever it is (it timed out). */
  remove(p: PendingRequest): void {
    if (this.#sent.get(p.id) === p) {
      this.#sent.delete(p.id);
      return;
    }
    const at = this.#waiting.indexOf(p);
    if (at >= 0) this.#waiting.splice(at, 1);
  }

  /** Settle every request, sent or waiting, with `error`. */
  failAll(error: SluiceError): void {
    const all = [...this.#sent.values(), ...this.#waiting];
    this.#sent.clear();
    this.#waiting = [];
    for (const p of all) settle(p, error);
  }
}

/** Resolve or reject a request exactly once. */
export function settle(p: PendingRequest, error: SluiceError | undefined, value?: unknown): void {
  if (p.timer === undefined) return;
  clearTimeout(p.timer);
  p.timer = undefined;
  if (error) p.reject(error);
  else p.resolve(value);
}

/** The error of requests failed by the client closing its connection. */
export function closedByClient(): SluiceError {
  return new SluiceError('CONNECTION_CLOSED', 'the connection was closed by the client');
}

/**
 * The seam between the client's logic (producer, consumer, admin) and the network: a request /
 * response channel speaking the ops of docs/protocol.md. `Connection` is the real one; unit tests
 * plug in an in-process fake broker, and several clients may share one Connection.
 */
import type { HelloResponse, OpBody, OpName, OpResponse } from '../protocol/wire/ops.ts';

/** Per-request options. */
export interface RequestOptions {
  /** Milliseconds before the request fails with CLIENT_TIMEOUT (default: the connection's requestTimeoutMs). */
  timeoutMs?: number;
}

/** A request/response channel to a broker. */
export interface ClientTransport {
  /**
   * Send a request and resolve with its response; failures reject with a SluiceError. Exception: the
   * group ops whose results carry a group-level `error` (joinGroup, syncGroup, heartbeat,
   * offsetFetch; RESULT_ERROR_OPS in connection.ts) resolve with an `error` field instead, whether the
   * group or the whole request failed: check `error`.
   */
  request<K extends OpName>(op: K, body: OpBody<K>, options?: RequestOptions): Promise<OpResponse<K>>;
  /**
   * Send a request that gets no response (a produce with `acks: 0`); resolves once the frame has
   * been handed to the network.
   */
  send<K extends OpName>(op: K, body: OpBody<K>): Promise<void>;
  /** Connect (idempotent); resolves once the broker has answered `hello`. */
  connect(): Promise<void>;
  /** Close; pending requests fail with CONNECTION_CLOSED. */
  close(): Promise<void>;
  /** The broker's `hello` answer, once connected. */
  readonly serverInfo: HelloResponse | undefined;
}

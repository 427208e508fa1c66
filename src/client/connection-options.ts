/**
 * Connection settings and their defaults (docs/client.md has them as a table).
 */
import type { BackoffOptions } from './backoff.ts';
import type { SocketFactory } from './socket.ts';

/** Where to connect, and how hard to try. */
export interface ConnectionOptions {
  /** Broker URL or URLs, tried in turn (default `ws://127.0.0.1:7070`). */
  bootstrap?: string | readonly string[];
  /** Sent in `hello`; shows up in the broker's logs. */
  clientId?: string;
  /** Default time a request may take before it fails with CLIENT_TIMEOUT (default 30 000 ms). */
  requestTimeoutMs?: number;
  /** Time the first connection may take, all bootstrap URLs and retries included (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** Most requests in flight; the broker's `hello.maxInFlight` lowers it (default 1024). */
  maxInFlight?: number;
  /** Reconnection after the socket drops; `false` turns it off. */
  reconnect?: Partial<ReconnectOptions> | false;
  /** Replace the WebSocket implementation (tests, unusual runtimes). */
  socketFactory?: SocketFactory;
}

/** Backoff between reconnection attempts. */
export interface ReconnectOptions extends BackoffOptions {
  /** Attempts after a drop before pending requests fail for good and the connection goes idle. */
  maxAttempts: number;
}

/** Defaults of ConnectionOptions. */
export const CONNECTION_DEFAULTS = {
  bootstrap: 'ws://127.0.0.1:7070',
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  maxInFlight: 1024,
  reconnect: { initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2, jitter: 0.5, maxAttempts: Infinity },
} as const;

/** Life cycle of a Connection. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'closed';

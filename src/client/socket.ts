/**
 * The one place that touches a WebSocket implementation. In Node it is the `ws` package (with
 * bufferutil for masking; permessage-deflate off, since record batches are compressed, or not, by
 * the producer's own choice); in a browser (or any runtime without `process.versions.node`) it is the
 * global WebSocket with binaryType 'arraybuffer'. `ws` is loaded with a dynamic import so that the
 * browser path pulls in no Node built-ins (and bundlers resolve `ws` to its tiny browser stub).
 */

/** What a socket reports to its owner (the Connection). */
export interface SocketHandlers {
  onOpen(): void;
  /** One binary message. `data` may be a view of a larger buffer. */
  onMessage(data: Uint8Array): void;
  /** A text message: a protocol violation by the peer. */
  onText(): void;
  onClose(code: number, reason: string): void;
  onError(error: Error): void;
}

/** A connected (or connecting) WebSocket, reduced to what the client needs. */
export interface ClientSocket {
  /** Send one binary message; `done` runs once the bytes are handed to the network (or failed). */
  send(data: Uint8Array, done?: (error?: Error) => void): void;
  /**
   * Send one binary message made of several chunks, without joining them (as WebSocket fragments),
   * when the runtime can; the client then sends a record batch without copying it into the envelope.
   */
  sendChunks?(chunks: Uint8Array[], done?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet handed to the network. */
  readonly bufferedAmount: number;
}

/** Opens a socket to `url` and reports its events to `handlers`. Replaceable for tests and odd runtimes. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => ClientSocket;

/** Largest message accepted from the broker (a fetch answer is ≤ 50 MiB of records by default). */
const MAX_INCOMING_BYTES = 256 * 1024 * 1024;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

let factory: Promise<SocketFactory> | undefined;

/** The runtime's socket factory: `ws` in Node, the global WebSocket elsewhere. */
export function defaultSocketFactory(): Promise<SocketFactory> {
  factory ??= isNode() ? nodeFactory() : Promise.resolve(browserFactory());
  return factory;
}

async function nodeFactory(): Promise<SocketFactory> {
  const mod = (await import('ws')) as unknown as { default: typeof import('ws').default };
  const WebSocket = mod.default;
  return (url, handlers) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: MAX_INCOMING_BYTES,
      // An all-zero masking key: ws then neither masks nor copies each frame (it would copy every
      // record batch once more). Masking protects intermediaries from scripts in browsers, which
      // always mask; a Node client talking to its broker needs no such protection, and a zero key is
      // still a key in RFC 6455's sense (the mask bit is set).
      generateMask: (mask: Buffer) => {
        mask.fill(0);
      },
    });
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => handlers.onOpen());
    ws.on('message', (data, isBinary) => {
      if (!isBinary) handlers.onText();
      else handlers.onMessage(data as Buffer);
    });
    ws.on('close', (code, reason) => handlers.onClose(code, reason.toString()));
    ws.on('error', (err) => handlers.onError(err));
    return {
      send(data, done) {
        ws.send(data, { binary: true }, done);
      },
      sendChunks(chunks, done) {
        const last = chunks.length - 1;
        for (let i = 0; i < last; i++) ws.send(chunks[i]!, { binary: true, fin: false });
        ws.send(chunks[last]!, { binary: true, fin: true }, done);
      },
      close(code, reason) {
        // terminate() when the socket never opened: close() would wait for a handshake.
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(code, reason);
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
    };
  };
}

interface BrowserWebSocket {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

function browserFactory(): SocketFactory {
  const WebSocketCtor = (globalThis as { WebSocket?: new (url: string) => BrowserWebSocket }).WebSocket;
  if (!WebSocketCtor) throw new Error('Sluice client: this runtime has no WebSocket');
  return (url, handlers) => {
    const ws = new WebSocketCtor(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => handlers.onOpen();
    ws.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) handlers.onMessage(new Uint8Array(ev.data));
      else handlers.onText();
    };
    ws.onclose = (ev) => handlers.onClose(ev.code, ev.reason);
    ws.onerror = () => handlers.onError(new Error(`WebSocket error on ${url}`));
    return {
      send(data, done) {
        try {
          ws.send(data);
        } catch (err) {
          done?.(err as Error);
          return;
        }
        // Browsers give no write callback; the bytes are queued, which is what callers wait for.
        done?.();
      },
      close(code, reason) {
        ws.close(code, reason);
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
    };
  };
}

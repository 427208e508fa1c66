/**
 * A bare Kafka wire-protocol client for broker tests: send any request at any version (encoded by
 * Sluice's codecs) or any bytes, await responses by correlation id, see the order responses arrive
 * in and whether the broker closed the connection. Real Kafka clients (kafkajs, kcat) are driven
 * elsewhere; this one exists to send what they never would.
 */
import net from 'node:net';
import type { ApiKey, RequestBodies, ResponseBodies } from '../../../../src/protocol/kafka/api-keys.ts';
import {
  type DecodedResponse,
  decodeResponse,
  encodeRequest,
} from '../../../../src/protocol/kafka/request-codec.ts';
import { FrameReader } from '../../../../src/router/kafka/frame-reader.ts';

interface Pending {
  apiKey: ApiKey;
  version: number;
  resolve: (frame: Uint8Array) => void;
  reject: (err: Error) => void;
}

/** A whole request frame: int32 size + the encoded chunks. */
export function frameOf(chunks: Uint8Array[]): Buffer {
  const body = Buffer.concat(chunks);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

export function requestFrame<K extends ApiKey>(
  apiKey: K,
  version: number,
  correlationId: number,
  body: RequestBodies[K],
  clientId = 'sluice-test',
): Buffer {
  return frameOf(encodeRequest(apiKey, version, { correlationId, clientId }, body));
}

export class RawKafkaClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Responses that arrived before anyone asked for them. */
  private readonly unclaimed = new Map<number, Uint8Array>();
  private readonly frames = new FrameReader(1 << 30);
  /** Correlation ids of the responses, in arrival order. */
  readonly arrivals: number[] = [];
  /** Resolves when the broker closes the connection (or it breaks). */
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.frames.push(chunk);
      for (let f = this.frames.next(); f; f = this.frames.next()) this.onFrame(f);
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        for (const p of this.pending.values()) p.reject(new Error('connection closed before the response'));
        this.pending.clear();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawKafkaClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, noDelay: true }, () => resolve(new RawKafkaClient(socket)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  private onFrame(frame: Uint8Array): void {
    const correlationId = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).readInt32BE(0);
    this.arrivals.push(correlationId);
    const p = this.pending.get(correlationId);
    this.pending.delete(correlationId);
    if (p) p.resolve(new Uint8Array(frame));
    else this.unclaimed.set(correlationId, new Uint8Array(frame));
  }

  /** Send a request without waiting; returns its correlation id. */
  send<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K]): number {
    const id = this.nextId++;
    this.socket.write(requestFrame(apiKey, version, id, body));
    return id;
  }

  /** The response to a request sent with `send` (rejects if the connection closes first). */
  response<K extends ApiKey>(apiKey: K, version: number, correlationId: number): Promise<DecodedResponse<K>> {
    return this.rawResponse(apiKey, version, correlationId).then((frame) =>
      decodeResponse(apiKey, version, frame),
    );
  }

  /** The response frame (without size prefix) to a request sent with `send`. */
  rawResponse(apiKey: ApiKey, version: number, correlationId: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const early = this.unclaimed.get(correlationId);
      this.unclaimed.delete(correlationId);
      if (early) resolve(early);
      else if (this.isClosed) reject(new Error('connection closed'));
      else this.pending.set(correlationId, { apiKey, version, resolve, reject });
    });
  }

  async request<K extends ApiKey>(
    apiKey: K,
    version: number,
    body: RequestBodies[K],
  ): Promise<ResponseBodies[K]> {
    const id = this.nextId++;
    // Encode first: a body the version cannot carry throws here, before a response is awaited.
    const frame = requestFrame(apiKey, version, id, body);
    const response = this.response(apiKey, version, id);
    this.socket.write(frame);
    return (await response).body;
  }

  writeBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A fresh topic name per test. */
export function topicName(prefix = 'k'): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    }),
  ]);
}

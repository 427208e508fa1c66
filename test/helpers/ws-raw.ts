/**
 * A bare WebSocket protocol client for broker tests: send any envelope (or any bytes), await the
 * response with the same id, see how the connection closed. The real client library lives in
 * src/client; this one exists to send what a correct client never would.
 */
import WebSocket from 'ws';
import { decodeMessage, encodeMessage } from '../../src/protocol/wire/envelope.ts';

export interface RawResponse {
  id: number;
  error?: { code: string; message: string; retriable: boolean };
  [field: string]: unknown;
}

export class RawWsClient {
  private nextId = 1;
  private readonly pending = new Map<number, (r: RawResponse) => void>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = decodeMessage(data as Buffer) as RawResponse;
      const resolve = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      resolve?.(msg);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async connect(url: string): Promise<RawWsClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new RawWsClient(ws);
  }

  /** Send a request and await its response (rejects if the connection closes first). */
  request(op: string, body: Record<string, unknown> = {}): Promise<RawResponse> {
    const id = this.nextId++;
    const response = new Promise<RawResponse>((resolve, reject) => {
      this.pending.set(id, resolve);
      void this.closed.then(({ code, reason }) =>
        reject(new Error(`connection closed (${code} ${reason}) before response ${id}`)),
      );
    });
    this.ws.send(encodeMessage({ id, op, ...body }));
    return response;
  }

  /** Send without waiting for a response (acks=0 produce, or to check that none comes). */
  send(op: string, body: Record<string, unknown> = {}): number {
    const id = this.nextId++;
    this.ws.send(encodeMessage({ id, op, ...body }));
    return id;
  }

  /** Register interest in a response id sent with `send`. */
  responseTo(id: number): Promise<RawResponse> {
    return new Promise((resolve) => this.pending.set(id, resolve));
  }

  sendBytes(bytes: Uint8Array | string, binary = true): void {
    this.ws.send(bytes, { binary });
  }

  close(): void {
    this.ws.close();
  }
}

/** `{ topics: [{ topic, partitions: [{ partition, records }] }] }` for one partition. */
export function producePayload(topic: string, partition: number, records: Uint8Array, acks: -1 | 0 | 1 = 1) {
  return { acks, topics: [{ topic, partitions: [{ partition, records }] }] };
}

export function fetchPayload(
  topic: string,
  partition: number,
  offset: number,
  extra: Record<string, unknown> = {},
) {
  return { maxWaitMs: 0, ...extra, topics: [{ topic, partitions: [{ partition, offset }] }] };
}

/**
 * A minimal NATS client for the peer benchmarks (the text protocol over one TCP connection): PUB with
 * a reply subject (JetStream answers each publish with a PubAck there), SUB, and MSG/HMSG delivery.
 * Written here for the same reason as resp-client.ts: no dependency, no client-library overhead
 * beyond what the protocol needs, every delivered message parsed to its payload.
 */
import net from 'node:net';

export interface NatsMessage {
  subject: string;
  sid: number;
  reply: string | undefined;
  /** Header block (HMSG), e.g. "NATS/1.0 404 No Messages", or undefined. */
  headers: string | undefined;
  payload: Buffer;
}

export class NatsClient {
  readonly #socket: net.Socket;
  #buf: Buffer = Buffer.alloc(0);
  #sid = 0;
  readonly #subs = new Map<number, (m: NatsMessage) => void>();
  #pong: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<NatsClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(s));
      s.once('error', reject);
    });
    const client = new NatsClient(socket);
    socket.write(
      `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, headers: true, no_responders: true, lang: 'sluice-bench', version: '0' })}\r\n`,
    );
    await client.ping();
    return client;
  }

  /** Round trip to the server (everything sent before is processed when it resolves). */
  ping(): Promise<void> {
    return new Promise((resolve) => {
      this.#pong.push(resolve);
      this.#socket.write('PING\r\n');
    });
  }

  subscribe(subject: string, handler: (m: NatsMessage) => void): number {
    const sid = ++this.#sid;
    this.#subs.set(sid, handler);
    this.#socket.write(`SUB ${subject} ${sid}\r\n`);
    return sid;
  }

  unsubscribe(sid: number): void {
    this.#subs.delete(sid);
    this.#socket.write(`UNSUB ${sid}\r\n`);
  }

  /** Publish; `reply` is where the answer (a JetStream PubAck) goes. Returns false when the socket buffer is full. */
  publish(subject: string, payload: Buffer | string, reply?: string): boolean {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const head =
      reply === undefined
        ? `PUB ${subject} ${body.length}\r\n`
        : `PUB ${subject} ${reply} ${body.length}\r\n`;
    return this.#socket.write(Buffer.concat([Buffer.from(head), body, Buffer.from('\r\n')]));
  }

  /** Wait until the socket's write buffer drained. */
  drained(): Promise<void> {
    return this.#socket.writableNeedDrain
      ? new Promise((resolve) => this.#socket.once('drain', resolve))
      : Promise.resolve();
  }

  /** Request/reply (JetStream API calls): one-off inbox, resolves with the answer's payload as JSON. */
  async request<T = Record<string, unknown>>(subject: string, body: object): Promise<T> {
    const inbox = `_INBOX.req.${++this.#sid}.${Math.random().toString(36).slice(2)}`;
    const answer = new Promise<NatsMessage>((resolve) => {
      const sid = this.subscribe(inbox, (m) => {
        this.unsubscribe(sid);
        resolve(m);
      });
    });
    this.publish(subject, JSON.stringify(body), inbox);
    const m = await answer;
    const json = JSON.parse(m.payload.toString() || '{}') as T & { error?: { description: string } };
    if (json.error) throw new Error(`${subject}: ${json.error.description}`);
    return json;
  }

  close(): void {
    this.#socket.end();
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    let pos = 0;
    const buf = this.#buf;
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) break;
      const line = buf.toString('latin1', pos, eol);
      if (line.startsWith('MSG ') || line.startsWith('HMSG ')) {
        const f = line.split(' ');
        const isH = f[0] === 'HMSG';
        // MSG subject sid [reply] size · HMSG subject sid [reply] hdrSize totalSize
        const total = Number(f[f.length - 1]);
        const hdr = isH ? Number(f[f.length - 2]) : 0;
        const hasReply = f.length === (isH ? 6 : 5);
        if (eol + 2 + total + 2 > buf.length) break;
        const start = eol + 2;
        const m: NatsMessage = {
          subject: f[1]!,
          sid: Number(f[2]),
          reply: hasReply ? f[3] : undefined,
          headers: isH ? buf.toString('latin1', start, start + hdr) : undefined,
          payload: buf.subarray(start + hdr, start + total),
        };
        pos = start + total + 2;
        this.#subs.get(m.sid)?.(m);
        continue;
      }
      pos = eol + 2;
      if (line === 'PING') this.#socket.write('PONG\r\n');
      else if (line === 'PONG') this.#pong.shift()?.();
      else if (line.startsWith('-ERR')) process.stderr.write(`nats: ${line}\n`);
      // INFO and +OK need nothing.
    }
    this.#buf = pos >= buf.length ? Buffer.alloc(0) : buf.subarray(pos);
  }
}

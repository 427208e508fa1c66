/**
 * A minimal Redis client for the peer benchmarks (RESP2 over one TCP connection, pipelined): enough
 * for XADD and XREAD. Sluice has no Redis dependency, and the benchmark must not measure a client
 * library's overheads that Sluice's own client does not have: this one parses replies straight from
 * the socket's buffers, and every stream entry read is decoded (id, field, value as Buffers).
 */
import net from 'node:net';

export type Reply = string | number | Buffer | null | Reply[] | Error;

/** Encode a command as a RESP array of bulk strings. */
export function command(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Incremental RESP2 parser: returns a reply, or undefined when the buffer ends first. */
class Parser {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  push(chunk: Buffer): void {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
  }

  next(): Reply | undefined {
    const start = this.pos;
    const r = this.#value();
    if (r === undefined) this.pos = start;
    return r;
  }

  #line(): string | undefined {
    const end = this.buf.indexOf('\r\n', this.pos);
    if (end < 0) return undefined;
    const line = this.buf.toString('latin1', this.pos, end);
    this.pos = end + 2;
    return line;
  }

  #value(): Reply | undefined {
    const line = this.#line();
    if (line === undefined) return undefined;
    const rest = line.slice(1);
    switch (line[0]) {
      case '+':
        return rest;
      case '-':
        return new Error(rest);
      case ':':
        return Number(rest);
      case '$': {
        const n = Number(rest);
        if (n < 0) return null;
        if (this.pos + n + 2 > this.buf.length) return undefined;
        const b = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n + 2;
        return b;
      }
      case '*': {
        const n = Number(rest);
        if (n < 0) return null;
        const out: Reply[] = [];
        for (let i = 0; i < n; i++) {
          const v = this.#value();
          if (v === undefined) return undefined;
          out.push(v);
        }
        return out;
      }
      default:
        throw new Error(`RESP: unexpected ${JSON.stringify(line)}`);
    }
  }
}

/** One connection; replies resolve in order (pipelining: send many, then await them). */
export class RespClient {
  readonly #socket: net.Socket;
  readonly #parser = new Parser();
  readonly #waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#parser.push(chunk);
      for (;;) {
        const r = this.#parser.next();
        if (r === undefined) break;
        const w = this.#waiting.shift();
        if (w) r instanceof Error ? w.reject(r) : w.resolve(r);
      }
    });
    socket.on('close', () => {
      for (const w of this.#waiting.splice(0)) w.reject(new Error('connection closed'));
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Send an encoded command (see `command`); resolves with its reply. */
  send(encoded: Buffer): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#socket.write(encoded);
    });
  }

  call(...args: (string | Buffer)[]): Promise<Reply> {
    return this.send(command(args));
  }

  close(): void {
    this.#socket.end();
  }
}

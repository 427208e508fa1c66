/**
 * Connection against a scripted in-process WebSocket server (real sockets, real `ws`): hello,
 * correlation of responses that come in any order, timeouts, errors rebuilt as SluiceError, the
 * in-flight bound, fire-and-forget sends, reconnection with backoff, and closing.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Connection } from '../../../src/client/connection.ts';
import type { SocketFactory, SocketHandlers } from '../../../src/client/socket.ts';
import { decodeMessage, encodeMessage } from '../../../src/protocol/wire/envelope.ts';

interface Script {
  maxInFlight: number;
  maxFrameBytes: number;
  hellos: number;
  received: Record<string, unknown>[];
  concurrent: number;
  maxConcurrent: number;
}

const servers: WebSocketServer[] = [];

/** A server answering hello, and `fetch` after `maxWaitMs` with `{ echo: topics[0].topic }` (or an error). */
async function startServer(
  port = 0,
  script: Partial<Script> = {},
): Promise<{ url: string; wss: WebSocketServer; s: Script }> {
  const s: Script = {
    maxInFlight: 64,
    maxFrameBytes: 1 << 20,
    hellos: 0,
    received: [],
    concurrent: 0,
    maxConcurrent: 0,
    ...script,
  };
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const msg = decodeMessage(data as Buffer) as { id: number; op: string; [k: string]: unknown };
      s.received.push(msg);
      const reply = (body: object) => ws.send(encodeMessage({ id: msg.id, ...body }));
      if (msg.op === 'hello') {
        s.hellos++;
        reply({
          protocolVersion: 1,
          server: 'sluice',
          serverVersion: 'test',
          nodeId: 0,
          maxFrameBytes: s.maxFrameBytes,
          maxInFlight: s.maxInFlight,
        });
        return;
      }
      if (msg.op !== 'fetch') return; // e.g. produce with acks 0: no answer
      const tag = (msg.topics as { topic: string }[])[0]!.topic;
      s.concurrent++;
      s.maxConcurrent = Math.max(s.maxConcurrent, s.concurrent);
      setTimeout(() => {
        s.concurrent--;
        if (tag === 'fail')
          reply({ error: { code: 'NOT_LEADER_OR_FOLLOWER', message: 'scripted', retriable: true } });
        else if (tag === 'weird')
          reply({ error: { code: 'NO_SUCH_CODE', message: 'from the future', retriable: false } });
        else reply({ echo: tag });
      }, msg.maxWaitMs as number);
    });
  });
  const { port: bound } = wss.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${bound}`, wss, s };
}

function fetchBody(tag: string, delayMs = 0) {
  return { maxWaitMs: delayMs, topics: [{ topic: tag, partitions: [] }] };
}

async function stop(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
}

const connections: Connection[] = [];
function connection(options: ConstructorParameters<typeof Connection>[0]): Connection {
  const c = new Connection(options);
  connections.push(c);
  return c;
}

afterEach(async () => {
  for (const c of connections.splice(0)) await c.close();
  for (const wss of servers.splice(0)) await stop(wss);
});

describe('Connection', () => {
  it('says hello and learns the broker’s limits', async () => {
    const { url, s } = await startServer(0, { maxInFlight: 7, maxFrameBytes: 12345 });
    const c = connection({ bootstrap: url, clientId: 'unit' });
    await c.connect();
    expect(c.state).toBe('open');
    expect(c.serverInfo).toMatchObject({ maxInFlight: 7, maxFrameBytes: 12345 });
    expect(s.received[0]).toMatchObject({ op: 'hello', clientId: 'unit', protocolVersion: 1 });
  });

  it('matches responses that arrive in any order to their requests', async () => {
    const { url } = await startServer();
    const c = connection({ bootstrap: url });
    const order: string[] = [];
    const requests = [
      ['a', 60],
      ['b', 30],
      ['c', 0],
    ].map(([tag, delay]) =>
      c.request('fetch', fetchBody(tag as string, delay as number)).then((r) => {
        const echo = (r as unknown as { echo: string }).echo;
        order.push(echo);
        return echo;
      }),
    );
    expect(await Promise.all(requests)).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['c', 'b', 'a']);
  });

  it('fails a slow request with CLIENT_TIMEOUT and keeps the connection usable', async () => {
    const { url } = await startServer();
    const c = connection({ bootstrap: url, requestTimeoutMs: 50 });
    await expect(c.request('fetch', fetchBody('slow', 300))).rejects.toMatchObject({
      code: 'CLIENT_TIMEOUT',
      retriable: true,
    });
    expect(await c.request('fetch', fetchBody('ok'))).toMatchObject({ echo: 'ok' });
  });

  it('rebuilds wire errors as SluiceError (unknown codes as UNKNOWN_SERVER_ERROR)', async () => {
    const { url } = await startServer();
    const c = connection({ bootstrap: url });
    await expect(c.request('fetch', fetchBody('fail'))).rejects.toMatchObject({
      name: 'SluiceError',
      code: 'NOT_LEADER_OR_FOLLOWER',
      retriable: true,
    });
    await expect(c.request('fetch', fetchBody('weird'))).rejects.toMatchObject({
      code: 'UNKNOWN_SERVER_ERROR',
      message: 'from the future',
    });
  });

  it('keeps no more requests in flight than the broker allows', async () => {
    const { url, s } = await startServer(0, { maxInFlight: 3 });
    const c = connection({ bootstrap: url });
    const all = Array.from({ length: 12 }, (_, i) => c.request('fetch', fetchBody(`r${i}`, 10)));
    expect((await Promise.all(all)).length).toBe(12);
    expect(s.maxConcurrent).toBe(3);
  });

  it('send() hands a frame over without waiting for an answer', async () => {
    const { url, s } = await startServer();
    const c = connection({ bootstrap: url });
    await c.send('produce', { acks: 0, topics: [] });
    await expect.poll(() => s.received.some((m) => m.op === 'produce')).toBe(true);
  });

  it('refuses a frame larger than the broker’s maxFrameBytes before sending it', async () => {
    const { url } = await startServer(0, { maxFrameBytes: 1000 });
    const c = connection({ bootstrap: url });
    await expect(
      c.request('produce', {
        acks: 1,
        topics: [{ topic: 't', partitions: [{ partition: 0, records: new Uint8Array(2000) }] }],
      }),
    ).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
  });

  it('fails requests in flight with CONNECTION_CLOSED when the socket drops, then reconnects', async () => {
    const { url, wss, s } = await startServer();
    const c = connection({ bootstrap: url, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    await c.connect();
    const pending = c.request('fetch', fetchBody('never', 10_000));
    await expect.poll(() => s.received.length).toBe(2);
    for (const client of wss.clients) client.terminate();
    await expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED', retriable: true });
    expect(await c.request('fetch', fetchBody('again'))).toMatchObject({ echo: 'again' });
    expect(s.hellos).toBe(2);
    expect(c.reconnects).toBe(1);
  });

  it('waits through a broker restart: a request made while it is down succeeds once it is back', async () => {
    const first = await startServer();
    const port = Number(new URL(first.url).port);
    const c = connection({ bootstrap: first.url, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    await c.connect();
    await stop(first.wss);
    await expect.poll(() => c.state).not.toBe('open');
    const during = c.request('fetch', fetchBody('during'));
    await new Promise((r) => setTimeout(r, 200));
    const second = await startServer(port);
    expect(await during).toMatchObject({ echo: 'during' });
    expect(second.s.hellos).toBe(1);
  });

  it('gives up the first connection after connectTimeoutMs', async () => {
    const { url, wss } = await startServer();
    await stop(wss);
    const c = connection({
      bootstrap: url,
      connectTimeoutMs: 300,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    const started = performance.now();
    await expect(c.connect()).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(c.state).toBe('idle');
  });

  it('tries each bootstrap URL in turn', async () => {
    const dead = await startServer();
    await stop(dead.wss);
    const live = await startServer();
    const c = connection({ bootstrap: [dead.url, live.url] });
    await c.connect();
    expect(live.s.hellos).toBe(1);
  });

  it('close() fails pending requests and refuses new ones', async () => {
    const { url } = await startServer();
    const c = connection({ bootstrap: url });
    const pending = c.request('fetch', fetchBody('never', 10_000));
    await expect.poll(() => c.inFlight).toBe(1);
    const failed = expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    await c.close();
    await failed;
    await expect(c.request('fetch', fetchBody('late'))).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });
});

describe('Connection with a scripted socket', () => {
  it('close() while the socket is still opening: no hello, no zombie connection', async () => {
    const sent: Uint8Array[] = [];
    let handlers: SocketHandlers | undefined;
    let closed = false;
    const factory: SocketFactory = (_url, h) => {
      handlers = h;
      return {
        send: (data) => sent.push(data),
        close: () => {
          closed = true;
        },
        bufferedAmount: 0,
      };
    };
    const c = new Connection({ socketFactory: factory });
    const connecting = c.connect();
    await expect.poll(() => handlers !== undefined).toBe(true);
    await c.close();
    expect(closed).toBe(true);
    handlers!.onOpen(); // the socket comes up late anyway
    await expect(connecting).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(sent).toEqual([]);
    expect(c.state).toBe('closed');
  });

  it('a socket that closes during hello frees the hello and retries', async () => {
    const opened: SocketHandlers[] = [];
    const factory: SocketFactory = (_url, h) => {
      opened.push(h);
      queueMicrotask(() => h.onOpen());
      return {
        send: (data) => {
          const msg = decodeMessage(data) as { id: number; op: string };
          if (opened.length === 1) {
            h.onClose(1006, ''); // the first socket dies before answering hello
            return;
          }
          if (msg.op === 'hello') {
            const hello = {
              protocolVersion: 1,
              server: 'sluice',
              serverVersion: 't',
              nodeId: 0,
              maxFrameBytes: 1 << 20,
              maxInFlight: 1,
            };
            queueMicrotask(() => h.onMessage(encodeMessage({ id: msg.id, ...hello })));
          } else {
            queueMicrotask(() => h.onMessage(encodeMessage({ id: msg.id, echo: 'ok' })));
          }
        },
        close: () => queueMicrotask(() => h.onClose(1000, '')),
        bufferedAmount: 0,
      };
    };
    const c = new Connection({ socketFactory: factory, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    await c.connect();
    expect(opened).toHaveLength(2);
    expect(c.inFlight).toBe(0);
    // maxInFlight 1: the slot is free for a request.
    expect(await c.request('fetch', fetchBody('x'))).toMatchObject({ echo: 'ok' });
    await c.close();
  });
});

/**
 * The peers, started by the benchmark itself as plain processes on 127.0.0.1 (not as system
 * services), each with a fresh temp directory, and stopped afterwards:
 *
 *   Redis (Debian redis-server): AOF on, appendfsync everysec (Redis's recommended durable set-up,
 *   the comparable of Sluice's page-cache default), RDB snapshots off.
 *   NATS (Debian nats-server): JetStream on, file storage in the temp directory.
 */
import fs from 'node:fs';
import net from 'node:net';
import { startServer, tempDir } from '../harness/processes.ts';

/** A port that was free a moment ago (the servers below cannot be told to pick one themselves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

export interface PeerServer {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

async function started(
  dir: string,
  port: number,
  server: { stop: () => Promise<void> },
): Promise<PeerServer> {
  return {
    port,
    dir,
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startRedis(): Promise<PeerServer> {
  const dir = tempDir('sluice-redis-');
  const port = await freePort();
  const server = await startServer(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
    ],
    /Ready to accept connections/,
  );
  return started(dir, port, server);
}

export async function startNats(): Promise<PeerServer> {
  const dir = tempDir('sluice-nats-');
  const port = await freePort();
  const server = await startServer(
    'nats-server',
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
    /Server is ready/,
  );
  return started(dir, port, server);
}

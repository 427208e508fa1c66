/**
 * The broker's data directory: exclusive use, cluster identity, producer-id blocks.
 *
 *   .lock            the pid of the broker using the directory (a second broker refuses to start)
 *   meta.json        { "version": 1, "clusterId", "nodeId" } written once, like Kafka's meta.properties
 *   producer-ids.json { "version": 1, "nextBlockStart" } so producer ids are never reused
 *
 * Main thread only.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomically } from '../storage/atomic-file.ts';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the data directory for this process: create it, then claim `.lock` with an exclusive create.
 * A lock left by a process that no longer exists (kill -9) is taken over.
 */
export function lockDataDir(dataDir: string): { release(): void } {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      return {
        release: () => {
          try {
            if (fs.readFileSync(lockFile, 'utf8').trim() === String(process.pid)) fs.rmSync(lockFile);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new DataDirLockedError(
          `the data directory ${path.resolve(dataDir)} is in use by another Sluice broker (pid ${owner}); ` +
            'stop it first, or start this one with another --data-dir',
        );
      }
      // Stale lock from a broker that died: take it over.
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new DataDirLockedError(`could not lock the data directory ${path.resolve(dataDir)}`);
}

export interface ClusterMeta {
  clusterId: string;
  nodeId: number;
}

/** Read meta.json, creating it (with a new cluster id) on first start; the node id must not change. */
export function loadClusterMeta(dataDir: string, nodeId: number): ClusterMeta {
  const file = path.join(dataDir, 'meta.json');
  if (fs.existsSync(file)) {
    const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterMeta & { version: number };
    if (meta.nodeId !== nodeId) {
      throw new Error(
        `the data directory belongs to node ${meta.nodeId}, but this broker is node ${nodeId} (node.id)`,
      );
    }
    return { clusterId: meta.clusterId, nodeId: meta.nodeId };
  }
  // Kafka's cluster ids are 16 random bytes in URL-safe base64 (22 characters).
  const meta = { clusterId: randomBytes(16).toString('base64url'), nodeId };
  writeFileAtomically(file, JSON.stringify({ version: 1, ...meta }));
  return meta;
}

/**
 * Producer ids for idempotent producers, never reused across restarts: ids are handed out from a
 * block whose end is persisted before the first id of the block is used (one fsync per block).
 */
export class ProducerIdAllocator {
  static readonly BLOCK = 1000;
  private readonly file: string;
  private next: number;
  private blockEnd: number;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'producer-ids.json');
    let start = 0;
    if (fs.existsSync(this.file)) {
      const saved = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { nextBlockStart: number };
      start = saved.nextBlockStart;
    }
    this.next = start;
    this.blockEnd = start;
  }

  allocate(): number {
    if (this.next >= this.blockEnd) {
      this.blockEnd = this.next + ProducerIdAllocator.BLOCK;
      writeFileAtomically(this.file, JSON.stringify({ version: 1, nextBlockStart: this.blockEnd }));
    }
    return this.next++;
  }
}

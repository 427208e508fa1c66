/**
 * Durability by killing: a child process runs the engine (real worker threads) and appends as fast
 * as it can; it is SIGKILLed mid-stream. After reopening, every acknowledged batch must be in the
 * log at its acknowledged offset, byte for byte, and nothing torn may be served.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBatch, readBatchHeader } from '../../../src/protocol/kafka/record-batch.ts';
import { PartitionLog } from '../../../src/storage/log.ts';
import { asStored, killBatch, logConfig, splitBatches, tempDir } from '../../helpers/batches.ts';

const roots: string[] = [];
afterEach(() => {
  for (const d of roots.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const CHILD = path.resolve(import.meta.dirname, '../../helpers/engine-child.ts');

/** Run the child until it has acknowledged `minAcks` batches, then SIGKILL it; returns the acks. */
async function runAndKill(dataDir: string, mode: 'page' | 'fsync', minAcks: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, mode, '2'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acks: { p: number; n: number; base: number }[] = [];
  const lines = readline.createInterface({ input: child.stdout });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  const drained = new Promise<void>((resolve) => lines.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${acks.length} acks before the deadline`)), 45_000);
    lines.on('line', (line) => {
      const m = /^ack (\d+) (\d+) (\d+)$/.exec(line);
      if (!m) return;
      acks.push({ p: Number(m[1]), n: Number(m[2]), base: Number(m[3]) });
      if (acks.length === minAcks) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (acks.length < minAcks) reject(new Error('the child exited before it was killed'));
    });
  });
  expect(await exited).toBe('SIGKILL');
  // Acks already in the pipe when the kill landed count too: they were acknowledged.
  await drained;
  return acks;
}

async function verify(dataDir: string, acks: { p: number; n: number; base: number }[]) {
  for (const p of [0, 1]) {
    const log = await PartitionLog.open(
      path.join(dataDir, `kill-${p}`),
      logConfig({ segmentBytes: 256 * 1024 }),
    );
    expect(log.openReport.clean).toBe(false);
    // Everything stored is whole, valid and contiguous.
    const stored = new Map<number, Uint8Array>();
    let offset = 0;
    while (offset < log.logEndOffset) {
      const batches = splitBatches(log.read(offset, 1 << 20).bytes);
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) {
        expect(checkBatch(b)).toBeUndefined();
        const h = readBatchHeader(b);
        expect(h.baseOffset).toBe(offset);
        stored.set(h.baseOffset, b);
        offset = h.baseOffset + h.lastOffsetDelta + 1;
      }
    }
    const mine = acks.filter((a) => a.p === p);
    expect(mine.length).toBeGreaterThan(0);
    for (const a of mine) {
      const b = stored.get(a.base);
      expect(b, `acknowledged batch p${p} n${a.n} at offset ${a.base}`).toBeDefined();
      expect(Buffer.from(b!).equals(Buffer.from(asStored(killBatch(p, a.n), a.base)))).toBe(true);
    }
    await log.close();
  }
}

describe('kill -9 under load', () => {
  it('keeps every acknowledged batch (page-cache mode)', async () => {
    const root = tempDir();
    roots.push(root);
    const acks = await runAndKill(root, 'page', 3000);
    await verify(root, acks);
  });

  it('keeps every acknowledged batch (fsync before ack, group commit)', async () => {
    const root = tempDir();
    roots.push(root);
    const acks = await runAndKill(root, 'fsync', 600);
    await verify(root, acks);
  });
});

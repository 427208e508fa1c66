/**
 * A child process for kill -9 tests: runs a PartitionEngine and appends deterministic batches to
 * partitions of topic `kill` as fast as it can, printing `ack <partition> <n> <baseOffset>` for
 * every acknowledged batch (stdout is a pipe, written synchronously on Linux, so a printed ack
 * reached the parent before any kill).
 *
 * Usage: node --import tsx test/helpers/engine-child.ts <dataDir> <page|fsync> <partitions>
 */
import { PartitionEngine } from '../../src/router/partition-engine.ts';
import { killBatch, logConfig } from './batches.ts';

const [dataDir, mode = 'page', partitionArg = '2'] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: engine-child <dataDir> <page|fsync> <partitions>');
const partitions = Number(partitionArg);
const engine = await PartitionEngine.start({ dataDir, workers: 2 });
const config = logConfig({ segmentBytes: 256 * 1024, ...(mode === 'fsync' ? { flushMessages: 1 } : {}) });
for (let p = 0; p < partitions; p++) await engine.openPartition('kill', p, config);
process.stdout.write('ready\n');

const next = new Array<number>(partitions).fill(0);
async function pump(p: number): Promise<never> {
  for (;;) {
    const n = next[p]!++;
    const ack = await engine.append('kill', p, killBatch(p, n));
    process.stdout.write(`ack ${p} ${n} ${ack.baseOffset}\n`);
  }
}
// Several appends in flight per partition, as a pipelining producer would have.
for (let p = 0; p < partitions; p++) for (let k = 0; k < 8; k++) void pump(p);

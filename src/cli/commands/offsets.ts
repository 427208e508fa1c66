/**
 * `sluice offsets TOPIC`: the earliest and latest offset of every partition (like
 * kafka-get-offsets.sh), or with --time the first offset at or after a time.
 */
import type { Command } from 'commander';
import { Admin } from '../../client/index.ts';
import { addBootstrap, parseTime } from '../client-options.ts';
import { printTable } from '../output.ts';

export function registerOffsets(program: Command): void {
  addBootstrap(
    program
      .command('offsets <topic>')
      .description('earliest and latest offset of each partition (or the offset at --time)')
      .option('--time <time>', 'the first offset whose record time is ≥ this (epoch ms or ISO date)')
      .option('--json', 'print JSON'),
  ).action(async (topic: string, o: { bootstrap: string; time?: string; json?: boolean }) => {
    const admin = new Admin({ bootstrap: o.bootstrap, reconnect: false });
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      if (o.time !== undefined) {
        const at = parseTime(o.time, '--time');
        const found = await admin.listOffsets(offsets.map((p) => ({ topic, partition: p.partition, at })));
        if (o.json)
          console.log(
            JSON.stringify(
              found.map(({ partition, offset, timestamp }) => ({ partition, offset, timestamp })),
            ),
          );
        else
          printTable(
            ['Partition', 'Offset', 'Timestamp'],
            found.map((f) => [f.partition, f.offset, f.timestamp]),
          );
        return;
      }
      if (o.json)
        console.log(
          JSON.stringify(offsets.map((p) => ({ partition: p.partition, earliest: p.low, latest: p.high }))),
        );
      else
        printTable(
          ['Partition', 'EarliestOffset', 'LatestOffset'],
          offsets.map((p) => [p.partition, p.low, p.high]),
        );
    } finally {
      await admin.close();
    }
  });
}

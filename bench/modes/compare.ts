/**
 * Sluice's two front doors and its durable mode, side by side in one run (issue 7):
 *
 *   produce 100 B   `sluice bench produce --acks 1` over WebSocket vs `--protocol kafka` with kcat
 *                   (librdkafka) as the producer, to the same broker; then both consumers
 *   acks=all+fsync  a broker started with log.flush.interval.messages=1 (fsync before every
 *                   acknowledgement; concurrent appends share an fsync: group commit), one producer
 *                   over WebSocket with --acks all
 *
 *   node --import tsx bench/modes/compare.ts [--runs 3] [--records 5000000] [--fsync-records 1000000]
 *        [--out results.json]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type BenchJson,
  fmtInt,
  fmtRatio,
  log,
  machine,
  markdownTable,
  median,
  sluiceBench,
  startSluice,
  stopSluice,
} from '../harness/processes.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    records: { type: 'string', default: '5000000' },
    'fsync-records': { type: 'string', default: '1000000' },
    out: { type: 'string' },
  },
});

interface Round {
  wsProduce: BenchJson;
  kafkaProduce: BenchJson;
  wsConsume: BenchJson;
  kafkaConsume: BenchJson;
  fsyncProduce: BenchJson;
}

async function frontDoors(kafkaFirst: boolean): Promise<Omit<Round, 'fsyncProduce'>> {
  const broker = await startSluice();
  try {
    const common = ['--bootstrap', broker.url, '--kafka-bootstrap', `127.0.0.1:${broker.kafkaPort}`];
    const produce = ['--records', args.records!, '--record-size', '100', '--acks', '1'];
    const ws = () => sluiceBench(['produce', ...common, ...produce, '--topic', 'door-ws']);
    const kafka = () =>
      sluiceBench(['produce', ...common, ...produce, '--topic', 'door-kafka', '--protocol', 'kafka']);
    const [wsProduce, kafkaProduce] = kafkaFirst
      ? [await ws(), await kafka()].reverse()
      : [await ws(), await kafka()];
    return {
      wsProduce: wsProduce!,
      kafkaProduce: kafkaProduce!,
      wsConsume: await sluiceBench(['consume', ...common, '--topic', 'door-ws']),
      kafkaConsume: await sluiceBench(['consume', ...common, '--topic', 'door-kafka', '--protocol', 'kafka']),
    };
  } finally {
    await stopSluice(broker);
  }
}

async function fsyncProduce(): Promise<BenchJson> {
  const broker = await startSluice(['--log-flush-interval-messages', '1']);
  try {
    return await sluiceBench([
      'produce',
      '--bootstrap',
      broker.url,
      '--topic',
      'fsync',
      '--records',
      args['fsync-records']!,
      '--record-size',
      '100',
      '--acks',
      'all',
    ]);
  } finally {
    await stopSluice(broker);
  }
}

const rounds: Round[] = [];
for (let r = 0; r < Number(args.runs); r++) {
  log(`round ${r + 1}/${args.runs}`);
  const doors = await frontDoors(r % 2 === 1);
  const round = { ...doors, fsyncProduce: await fsyncProduce() };
  rounds.push(round);
  log(
    `  ws ${fmtInt(round.wsProduce.records_per_sec)}/s, kafka ${fmtInt(round.kafkaProduce.records_per_sec)}/s, fsync ${fmtInt(round.fsyncProduce.records_per_sec)}/s`,
  );
}
const m = (f: (r: Round) => number) => median(rounds.map(f));
process.stdout.write(
  `\nMachine: ${machine()}; ${rounds.length} rounds, medians; ratios are medians of per-round ratios.\n\n`,
);
const table = markdownTable(
  ['workload', 'records/s', 'compared with (same run)', 'ratio', 'target'],
  [
    [
      'produce 100 B, Kafka front door, kcat (librdkafka), acks=1',
      fmtInt(m((r) => r.kafkaProduce.records_per_sec)),
      `${fmtInt(m((r) => r.wsProduce.records_per_sec))} (WebSocket, Sluice client)`,
      fmtRatio(m((r) => r.kafkaProduce.records_per_sec / r.wsProduce.records_per_sec)),
      '≥ 0.80',
    ],
    [
      'consume 100 B, Kafka front door, kcat',
      fmtInt(m((r) => r.kafkaConsume.records_per_sec)),
      `${fmtInt(m((r) => r.wsConsume.records_per_sec))} (WebSocket, Sluice client)`,
      fmtRatio(m((r) => r.kafkaConsume.records_per_sec / r.wsConsume.records_per_sec)),
      '–',
    ],
    [
      'produce 100 B, acks=all, fsync before every ack (group commit)',
      fmtInt(m((r) => r.fsyncProduce.records_per_sec)),
      '',
      '',
      '≥ 300,000',
    ],
  ],
);
if (args.out) fs.writeFileSync(args.out, JSON.stringify({ machine: machine(), rounds, table }, null, 2));

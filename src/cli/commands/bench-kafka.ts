/**
 * `--protocol kafka`: the workloads through the broker's Kafka front door, with a real Kafka client
 * (`--kafka-client kcat`, the default, or `kafkajs`). Topics are created and offsets read over the
 * Kafka protocol too, so these workloads run against any Kafka-compatible broker.
 */
import { UsageError } from '../output.ts';
import { kafkaAdmin, kafkajsConsume, kafkajsProduce } from './bench-kafkajs.ts';
import { kcatConsume, kcatE2e, kcatProduce } from './bench-kcat.ts';
import type { BenchMeter } from './bench-stats.ts';
import type { BenchSettings } from './bench-workload.ts';

export async function benchProduceKafka(s: BenchSettings, meter: BenchMeter): Promise<void> {
  if (s.producers !== 1) throw new UsageError('--protocol kafka runs one producer (--producers 1)');
  const admin = await kafkaAdmin(s, true);
  try {
    if (s.kafkaClient === 'kcat') await kcatProduce(s, meter, admin);
    else await kafkajsProduce(s, meter);
  } finally {
    await admin.close().catch(() => {});
  }
}

export async function benchConsumeKafka(s: BenchSettings, meter: BenchMeter): Promise<void> {
  if (s.consumers !== 1) throw new UsageError('--protocol kafka runs one consumer (--consumers 1)');
  const admin = await kafkaAdmin(s, false);
  try {
    if (s.kafkaClient === 'kcat') await kcatConsume(s, meter, admin);
    else await kafkajsConsume(s, meter, admin);
  } finally {
    await admin.close().catch(() => {});
  }
}

export async function benchE2eKafka(s: BenchSettings, meter: BenchMeter): Promise<void> {
  if (s.kafkaClient !== 'kcat')
    throw new UsageError('bench e2e --protocol kafka drives kcat (--kafka-client kcat)');
  const admin = await kafkaAdmin(s, true);
  await admin.close().catch(() => {});
  await kcatE2e(s, meter);
}

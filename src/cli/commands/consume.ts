/**
 * `sluice consume TOPIC`: print records (like kafka-console-consumer / `kcat -C`). Reads all
 * partitions (or one), from the latest offset by default, `--from-beginning`, or `--offset`.
 * `--exit-at-end` stops at the end offsets seen at start; `--max-messages` after N records.
 * `--group G` reads as a member of consumer group G instead (consume-group.ts).
 */
import type { Command } from 'commander';
import { Admin, Consumer, type ConsumerRecord, type PartitionAssignment } from '../../client/index.ts';
import {
  addBootstrap,
  collect,
  Progress,
  parseInteger,
  parseTime,
  unescapeSeparator,
} from '../client-options.ts';
import { UsageError } from '../output.ts';
import { consumeGroup } from './consume-group.ts';

interface ConsumeOptions {
  bootstrap: string;
  fromBeginning?: boolean;
  offset?: string;
  partition?: string;
  maxMessages?: string;
  printKey?: boolean;
  printOffset?: boolean;
  printPartition?: boolean;
  printTimestamp?: boolean;
  printHeaders?: boolean;
  keySeparator: string;
  exitAtEnd?: boolean;
  json?: boolean;
  quiet?: boolean;
  group?: string;
  consumerProperty?: string[];
}

const utf8 = new TextDecoder();

function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : utf8.decode(bytes);
}

export function registerConsume(program: Command): void {
  addBootstrap(
    program
      .command('consume <topic>')
      .description('print records of a topic, one per line')
      .option('--from-beginning', 'start at the earliest offset (default: the latest)')
      .option(
        '--offset <offset>',
        'start offset: a number, earliest, latest, or @TIME (epoch ms or ISO date)',
      )
      .option('--partition <n>', 'read only this partition')
      .option('--max-messages <n>', 'exit after this many records')
      .option('--exit-at-end', 'exit once every partition reaches the end it had at start')
      .option('--print-key', 'print the key before the value')
      .option('--print-offset', 'print partition:offset first')
      .option('--print-partition', 'print the partition first')
      .option('--print-timestamp', 'print the timestamp (ms) first')
      .option('--print-headers', 'print headers as key=value,… before the value')
      .option('--key-separator <sep>', 'separator between printed fields', '\\t')
      .option('--json', 'print each record as a JSON object (key, value as UTF-8)')
      .option('-q, --quiet', 'no progress lines')
      .option('--group <group>', 'read as a member of this consumer group, committing offsets')
      .option(
        '--consumer-property <key=value>',
        'Kafka consumer setting for --group (repeatable), e.g. session.timeout.ms=10000',
        collect,
      ),
  ).action(async (topic: string, o: ConsumeOptions) => {
    if (o.fromBeginning && o.offset !== undefined)
      throw new UsageError('give --from-beginning or --offset, not both');
    const maxMessages =
      o.maxMessages === undefined
        ? Number.POSITIVE_INFINITY
        : parseInteger(o.maxMessages, '--max-messages', 1);
    const only = o.partition === undefined ? undefined : parseInteger(o.partition, '--partition', 0);
    const sep = unescapeSeparator(o.keySeparator);
    if (o.group !== undefined) {
      if (o.partition !== undefined || o.offset !== undefined)
        throw new UsageError(
          '--group reads the partitions the group assigns: --partition and --offset do not apply',
        );
      await consumeGroup(topic, {
        bootstrap: o.bootstrap,
        group: o.group,
        fromBeginning: o.fromBeginning ?? false,
        exitAtEnd: o.exitAtEnd ?? false,
        maxMessages,
        quiet: o.quiet ?? false,
        consumerProperties: o.consumerProperty,
        format: (r) => (o.json ? jsonLine(r) : textLine(r, o, sep)),
      });
      return;
    }
    if (o.consumerProperty) throw new UsageError('--consumer-property applies only with --group');

    const admin = new Admin({ bootstrap: o.bootstrap, reconnect: false });
    const consumer = new Consumer({ bootstrap: o.bootstrap, reconnect: false, autoOffsetReset: 'earliest' });
    let count = 0;
    let bytes = 0;
    const progress = new Progress('consumed', !o.quiet && !process.stdout.isTTY);
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      if (offsets.length === 0) throw new UsageError(`topic ${topic} has no partitions`);
      const partitions = only === undefined ? offsets : offsets.filter((p) => p.partition === only);
      if (partitions.length === 0) throw new UsageError(`topic ${topic} has no partition ${only}`);
      let start: PartitionAssignment['offset'] | 'time' = 'latest';
      let time = 0;
      if (o.fromBeginning) start = 'earliest';
      else if (o.offset === 'earliest' || o.offset === 'latest') start = o.offset;
      else if (o.offset?.startsWith('@')) {
        start = 'time';
        time = parseTime(o.offset.slice(1), '--offset');
      } else if (o.offset !== undefined) start = parseInteger(o.offset, '--offset', 0);
      consumer.assign(
        partitions.map((p) => ({
          topic,
          partition: p.partition,
          ...(start !== 'time' && { offset: start }),
        })),
      );
      if (start === 'time')
        await consumer.seekToTimestamp(
          partitions.map((p) => ({ topic, partition: p.partition })),
          time,
        );

      // --exit-at-end: the end of each partition as it is now.
      const ends = new Map(partitions.map((p) => [p.partition, p.high]));
      const done = new Set<number>();
      const atEnd = (partition: number, position: number) => {
        if (position >= (ends.get(partition) ?? 0)) done.add(partition);
        return done.size === partitions.length;
      };
      if (o.exitAtEnd) {
        for (const p of partitions) {
          const position = consumer.position({ topic, partition: p.partition }) ?? 0;
          if (start === 'latest' || position >= p.high) atEnd(p.partition, Number.POSITIVE_INFINITY);
        }
        if (done.size === partitions.length) return;
      }
      const out: string[] = [];
      const flushOut = () => {
        if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
        out.length = 0;
      };
      for await (const batch of consumer.batches()) {
        await batch.load();
        for (const r of batch) {
          out.push(o.json ? jsonLine(r) : textLine(r, o, sep));
          count++;
          bytes += r.value?.byteLength ?? 0;
          if (count >= maxMessages) break;
        }
        flushOut();
        progress.tick(count, bytes);
        if (count >= maxMessages) break;
        if (o.exitAtEnd && atEnd(batch.partition, batch.lastOffset + 1)) break;
      }
    } finally {
      await Promise.allSettled([consumer.close(), admin.close()]);
    }
    if (!o.quiet) process.stderr.write(`${progress.summary(count, bytes)}\n`);
  });
}

function jsonLine(r: ConsumerRecord): string {
  return JSON.stringify({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: text(r.key),
    value: text(r.value),
    headers: Object.fromEntries(r.headers.map((h) => [h.key, text(h.value)])),
  });
}

function textLine(r: ConsumerRecord, o: ConsumeOptions, sep: string): string {
  const fields: string[] = [];
  if (o.printOffset) fields.push(`${r.partition}:${r.offset}`);
  else if (o.printPartition) fields.push(String(r.partition));
  if (o.printTimestamp) fields.push(String(r.timestamp));
  if (o.printHeaders) fields.push(r.headers.map((h) => `${h.key}=${text(h.value) ?? ''}`).join(','));
  if (o.printKey) fields.push(text(r.key) ?? 'null');
  fields.push(text(r.value) ?? 'null');
  return fields.join(sep);
}

export type { ConsumeOptions };

/**
 * `sluice consume TOPIC --group G`: read as a member of consumer group G (like kafka-console-consumer
 * --group): the group's assignor decides which partitions this process reads, each starts at the
 * group's committed offset (or, without one, the latest offset; --from-beginning: the earliest),
 * and positions are committed as records are printed (auto-commit), on rebalances and on exit.
 * SIGINT/SIGTERM leave the group cleanly. `--consumer-property` takes Kafka consumer settings.
 *
 * --exit-at-end: exit once every partition this member holds has reached the end offset it had when
 * the command started. --max-messages: the commit on exit covers exactly the records printed.
 */
import {
  Admin,
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  type OffsetResetPolicy,
} from '../../client/index.ts';
import { keyValues, Progress, parseInteger } from '../client-options.ts';
import { UsageError } from '../output.ts';

/** What `consume --group` needs from the consume command. */
export interface GroupConsumeSettings {
  bootstrap: string;
  group: string;
  fromBeginning: boolean;
  exitAtEnd: boolean;
  maxMessages: number;
  quiet: boolean;
  consumerProperties: string[] | undefined;
  format(record: ConsumerRecord): string;
}

/** Kafka consumer property → ConsumerOptions. */
const PROPERTIES: Record<string, (value: string, flag: string) => Partial<ConsumerOptions>> = {
  'session.timeout.ms': (v, f) => ({ sessionTimeoutMs: parseInteger(v, f, 1) }),
  'heartbeat.interval.ms': (v, f) => ({ heartbeatIntervalMs: parseInteger(v, f, 1) }),
  'max.poll.interval.ms': (v, f) => ({ rebalanceTimeoutMs: parseInteger(v, f, 1) }),
  'auto.commit.interval.ms': (v, f) => ({ autoCommitIntervalMs: parseInteger(v, f, 1) }),
  'metadata.max.age.ms': (v, f) => ({ metadataMaxAgeMs: parseInteger(v, f, 1) }),
  'enable.auto.commit': (v, f) => {
    if (v !== 'true' && v !== 'false') throw new UsageError(`${f} must be true or false`);
    return { autoCommit: v === 'true' };
  },
  'auto.offset.reset': (v, f) => {
    if (v !== 'earliest' && v !== 'latest' && v !== 'none')
      throw new UsageError(`${f} must be earliest, latest or none`);
    return { autoOffsetReset: v as OffsetResetPolicy };
  },
  'partition.assignment.strategy': (v, f) => {
    const names = v.split(',').map((s) => s.trim());
    const known = ['range', 'roundrobin', 'cooperative-sticky'];
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length > 0)
      throw new UsageError(`${f}: unknown assignor ${unknown.join(', ')} (${known.join(', ')})`);
    return { assignors: names as ConsumerOptions['assignors'] };
  },
  'group.instance.id': (v) => ({ groupInstanceId: v }),
  'client.id': (v) => ({ clientId: v }),
};

function consumerProperties(pairs: string[] | undefined): Partial<ConsumerOptions> {
  const out: Partial<ConsumerOptions> = {};
  for (const [key, value] of Object.entries(keyValues(pairs, '--consumer-property'))) {
    const parse = PROPERTIES[key];
    if (!parse) {
      throw new UsageError(
        `--consumer-property ${key} is not supported (supported: ${Object.keys(PROPERTIES).join(', ')})`,
      );
    }
    Object.assign(out, parse(value, `--consumer-property ${key}`));
  }
  return out;
}

/** Run `consume TOPIC --group G`; resolves when done (max messages, end reached, signal). */
export async function consumeGroup(topic: string, s: GroupConsumeSettings): Promise<void> {
  const properties = consumerProperties(s.consumerProperties);
  const admin = new Admin({ bootstrap: s.bootstrap, reconnect: false });
  const consumer = new Consumer({
    bootstrap: s.bootstrap,
    clientId: 'sluice-console-consumer',
    groupId: s.group,
    autoOffsetReset: s.fromBeginning ? 'earliest' : 'latest',
    ...properties,
  });
  let count = 0;
  let bytes = 0;
  const progress = new Progress('consumed', !s.quiet && !process.stdout.isTTY);
  const stop = () => void consumer.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let endCheck: ReturnType<typeof setInterval> | undefined;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    if (offsets.length === 0) throw new UsageError(`topic ${topic} has no partitions`);
    const ends = new Map(offsets.map((p) => [p.partition, p.high]));
    // Between a revocation and the next assignment the member holds nothing: not "at the end".
    let settled = false;
    consumer.subscribe([topic], {
      onPartitionsAssigned: () => {
        settled = true;
      },
      onPartitionsRevoked: () => {
        settled = false;
      },
      onPartitionsLost: () => {
        settled = false;
      },
    });
    if (s.exitAtEnd) {
      // Positions of newly assigned partitions are known only once their committed offset (or the
      // reset offset) is looked up, and a member may have nothing to read at all: check on a timer.
      endCheck = setInterval(() => {
        if (!settled) return;
        const atEnd = consumer.assignment().every((tp) => {
          const position = consumer.position(tp);
          return position !== undefined && position >= (ends.get(tp.partition) ?? 0);
        });
        if (atEnd) stop();
      }, 100);
    }
    const out: string[] = [];
    for await (const batch of consumer.batches()) {
      await batch.load();
      let last = -1;
      for (const r of batch) {
        out.push(s.format(r));
        count++;
        bytes += r.value?.byteLength ?? 0;
        last = r.offset;
        if (count >= s.maxMessages) break;
      }
      if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
      out.length = 0;
      progress.tick(count, bytes);
      if (count >= s.maxMessages) {
        // The batch's records after the last one printed stay uncommitted.
        if (last >= 0 && last < batch.lastOffset) {
          try {
            consumer.seek({ topic: batch.topic, partition: batch.partition }, last + 1);
          } catch {
            // Revoked meanwhile: its new owner starts from the last commit.
          }
        }
        break;
      }
    }
  } finally {
    clearInterval(endCheck);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await Promise.allSettled([consumer.close(), admin.close()]);
  }
  if (!s.quiet) process.stderr.write(`${progress.summary(count, bytes)}\n`);
}

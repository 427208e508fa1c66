/**
 * `sluice produce TOPIC`: one record per line of stdin (like kafka-console-producer / `kcat -P`).
 * With --key-separator, the text before the first separator is the key. Prints the rate at the end
 * and a progress line every few seconds on stderr.
 */
import readline from 'node:readline';
import type { Command } from 'commander';
import { type CompressionName, Producer, type ProducerRecordInput } from '../../client/index.ts';
import { isCompressionName } from '../../protocol/kafka/record-batch.ts';
import {
  addBootstrap,
  collect,
  keyValues,
  Progress,
  parseAcks,
  parseInteger,
  unescapeSeparator,
} from '../client-options.ts';
import { UsageError } from '../output.ts';

interface ProduceOptions {
  bootstrap: string;
  keySeparator?: string;
  acks: string;
  compression: string;
  partition?: string;
  header?: string[];
  idempotent?: boolean;
  lingerMs: string;
  batchBytes: string;
  quiet?: boolean;
  json?: boolean;
}

/** Records are handed to the producer in chunks; a few chunks in flight keep it busy. */
const CHUNK = 2000;
const CHUNKS_IN_FLIGHT = 8;

export function registerProduce(program: Command): void {
  addBootstrap(
    program
      .command('produce <topic>')
      .description('produce one record per line of standard input')
      .option('--key-separator <sep>', 'split each line into key and value at the first <sep> (\\t allowed)')
      .option('--acks <acks>', 'all (-1), 1 or 0', 'all')
      .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
      .option('--partition <n>', 'write every record to this partition (default: by key, sticky without)')
      .option('--header <key=value>', 'add a header to every record (repeatable)', collect)
      .option('--idempotent', 'idempotent producer (no duplicates on retries; needs --acks all)')
      .option('--linger-ms <ms>', 'wait up to this long to fill batches', '5')
      .option('--batch-bytes <n>', 'batch size in bytes', String(64 * 1024))
      .option('-q, --quiet', 'no progress lines')
      .option('--json', 'print the final summary as JSON on stdout'),
  ).action(async (topic: string, o: ProduceOptions) => {
    const acks = parseAcks(o.acks);
    if (!isCompressionName(o.compression))
      throw new UsageError(`--compression must be none, gzip, snappy, lz4 or zstd`);
    if (o.idempotent && acks !== -1) throw new UsageError('--idempotent needs --acks all');
    const partition = o.partition === undefined ? undefined : parseInteger(o.partition, '--partition', 0);
    const headers = o.header ? keyValues(o.header, '--header') : undefined;
    const separator = o.keySeparator === undefined ? undefined : unescapeSeparator(o.keySeparator);
    if (separator === '') throw new UsageError('--key-separator cannot be empty');

    const producer = new Producer({
      bootstrap: o.bootstrap,
      acks,
      compression: o.compression as CompressionName,
      idempotent: o.idempotent ?? false,
      lingerMs: parseInteger(o.lingerMs, '--linger-ms', 0),
      batchBytes: parseInteger(o.batchBytes, '--batch-bytes', 1024),
      reconnect: false,
    });
    const progress = new Progress('produced', !o.quiet);
    let count = 0;
    let bytes = 0;
    const inFlight: Promise<void>[] = [];
    let chunk: ProducerRecordInput[] = [];
    const flushChunk = async () => {
      if (chunk.length === 0) return;
      inFlight.push(producer.sendMany(chunk));
      chunk = [];
      if (inFlight.length >= CHUNKS_IN_FLIGHT) await inFlight.shift();
    };
    try {
      await producer.connect();
      const lines = readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of lines) {
        let key: string | null = null;
        let value = line;
        if (separator !== undefined) {
          const at = line.indexOf(separator);
          if (at >= 0) {
            key = line.slice(0, at);
            value = line.slice(at + separator.length);
          }
        }
        chunk.push({
          topic,
          key,
          value,
          ...(headers && { headers }),
          ...(partition !== undefined && { partition }),
        });
        count++;
        bytes += line.length;
        if (chunk.length >= CHUNK) await flushChunk();
        progress.tick(count, bytes);
      }
      await flushChunk();
      await Promise.all(inFlight);
      await producer.flush();
    } finally {
      await producer.close().catch(() => {});
    }
    if (o.json) console.log(JSON.stringify({ topic, records: count, bytes }));
    process.stderr.write(`${progress.summary(count, bytes)}\n`);
  });
}

/**
 * Captures the golden Kafka request frames in test/fixtures/kafka-capture/: what kcat (librdkafka)
 * and kafkajs actually put on the wire when they talk to Sluice, recorded by a small TCP proxy on
 * loopback.
 *
 *   node --import tsx scripts/capture-kafka-requests.ts
 *
 * How (broker, proxy, what is kept): scripts/capture/capture-session.ts. The shape of a Produce
 * frame is its acks, codec and idempotence. Each client runs the scenarios its users run: metadata,
 * topic admin, produce with every codec, acks setting and idempotence, consume from several offsets,
 * offsets for times. Writes `kcat.json` and `kafkajs.json`. Requests carry timestamps, producer ids and client ids, so a
 * new capture differs in bytes; the test only needs decode → encode to give back the same bytes.
 */
import { createRequire } from 'node:module';
import { API_KEYS } from '../src/protocol/kafka/api-keys.ts';
import { readBatchHeader } from '../src/protocol/kafka/record-batch.ts';
import { decodeRequest } from '../src/protocol/kafka/request-codec.ts';
// Registers kafkajs's snappy, lz4 and zstd codecs.
import '../test/unit/protocol/kafka/kafkajs-glue.ts';
import { CaptureSession, kcat } from './capture/capture-session.ts';

/** Produce frames differ by acks, codec and idempotence: keep one of each. */
function shapeOf(frame: Uint8Array): string {
  const request = decodeRequest(frame);
  if (request.apiKey !== API_KEYS.Produce) return '';
  const records = request.body.topicData[0]?.partitionData[0]?.records;
  const header = records && records.byteLength >= 61 ? readBatchHeader(records) : undefined;
  return `acks=${request.body.acks} ${header?.compression ?? '-'}${(header?.producerId ?? -1) >= 0 ? ' idempotent' : ''}`;
}

async function kcatScenarios(bootstrap: string): Promise<void> {
  const lines = (tag: string) =>
    `${Array.from({ length: 10 }, (_, i) => `${tag}-${i}-${'x'.repeat(50)}`).join('\n')}\n`;
  await kcat(bootstrap, ['-L']);
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    await kcat(bootstrap, ['-P', '-t', 'capture-kcat', '-z', codec], lines(codec));
  }
  for (const acks of ['0', '1', 'all'])
    await kcat(bootstrap, ['-P', '-t', 'capture-kcat', '-X', `acks=${acks}`], lines(acks));
  await kcat(
    bootstrap,
    ['-P', '-t', 'capture-kcat', '-X', 'enable.idempotence=true', '-K:', '-H', 'h=1'],
    'k:v\n',
  );
  await kcat(bootstrap, ['-C', '-t', 'capture-kcat', '-o', 'beginning', '-e', '-q']);
  await kcat(bootstrap, ['-C', '-t', 'capture-kcat', '-o', '-2', '-e', '-q']);
  await kcat(bootstrap, ['-C', '-t', 'capture-kcat', '-o', `s@${Date.now() - 60_000}`, '-e', '-q']);
  await kcat(bootstrap, ['-Q', '-t', `capture-kcat:0:${Date.now() - 60_000}`]);
}

async function kafkajsScenarios(bootstrap: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafka = new Kafka({ clientId: 'capture', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'capture-kafkajs', numPartitions: 2 }] });
  await admin.listTopics();
  await admin.fetchTopicMetadata({ topics: ['capture-kafkajs'] });
  await admin.describeConfigs({ resources: [{ type: 2, name: 'capture-kafkajs' }], includeSynonyms: false });
  const producer = kafka.producer();
  await producer.connect();
  for (const codec of ['None', 'GZIP', 'Snappy', 'LZ4', 'ZSTD']) {
    await producer.send({
      topic: 'capture-kafkajs',
      compression: CompressionTypes[codec],
      messages: [
        { key: 'k1', value: `v1-${codec}`, headers: { h: 'x' } },
        { key: null, value: `v2-${codec}` },
      ],
    });
  }
  await producer.disconnect();
  const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await idempotent.connect();
  await idempotent.send({ topic: 'capture-kafkajs', messages: [{ value: 'once' }] });
  await idempotent.disconnect();
  await admin.fetchTopicOffsets('capture-kafkajs');
  await admin.fetchTopicOffsetsByTimestamp('capture-kafkajs', Date.now() - 60_000);
  await admin.createPartitions({ topicPartitions: [{ topic: 'capture-kafkajs', count: 3 }] });
  await admin.deleteTopics({ topics: ['capture-kafkajs'] });
  await admin.disconnect();
}

const session = await CaptureSession.start({ shapeOf });
try {
  session.client = 'kcat';
  await kcatScenarios(session.bootstrap);
  session.client = 'kafkajs';
  await kafkajsScenarios(session.bootstrap);
} finally {
  await session.stop();
}
session.write('');

/**
 * Captures the golden consumer-group request frames in test/fixtures/kafka-capture/{kcat,kafkajs}-groups.json:
 * what kcat (librdkafka) and kafkajs put on the wire when they run consumer groups against Sluice.
 *
 *   node --import tsx scripts/capture-group-requests.ts
 *
 * Same method as scripts/capture-kafka-requests.ts (scripts/capture/capture-session.ts: a recording
 * proxy in front of the broker, which the clients' coordinator connections pass too). Only the group
 * APIs are kept (FindCoordinator, JoinGroup … DeleteGroups), at most two per API, version and shape
 * (for JoinGroup: first join or rejoin). Scenarios: two kcat `-G` members sharing a topic and
 * leaving; a kafkajs consumer group with commits, then the kafkajs group admin calls.
 *
 * Frames carry member ids, generations and offsets of one run, so a new capture differs in bytes; the
 * tests only need decode → encode to give the same bytes, and the broker to answer each frame.
 */
import { createRequire } from 'node:module';
import { API_KEYS } from '../src/protocol/kafka/api-keys.ts';
import { decodeRequest } from '../src/protocol/kafka/request-codec.ts';
import { CaptureSession, kcat } from './capture/capture-session.ts';

const GROUP_APIS = new Set<number>([
  API_KEYS.FindCoordinator,
  API_KEYS.JoinGroup,
  API_KEYS.SyncGroup,
  API_KEYS.Heartbeat,
  API_KEYS.LeaveGroup,
  API_KEYS.OffsetCommit,
  API_KEYS.OffsetFetch,
  API_KEYS.DescribeGroups,
  API_KEYS.ListGroups,
  API_KEYS.DeleteGroups,
]);

function shapeOf(frame: Uint8Array): string {
  const request = decodeRequest(frame);
  if (request.apiKey === API_KEYS.JoinGroup) return request.body.memberId === '' ? 'first join' : 'rejoin';
  if (request.apiKey === API_KEYS.SyncGroup)
    return request.body.assignments.length > 0 ? 'leader' : 'follower';
  if (request.apiKey === API_KEYS.OffsetCommit)
    return (request.body.generationIdOrMemberEpoch ?? -1) < 0 ? 'simple' : 'member';
  return '';
}

async function kcatScenarios(bootstrap: string): Promise<void> {
  const lines = `${Array.from({ length: 40 }, (_, i) => `line-${i}`).join('\n')}\n`;
  await kcat(bootstrap, ['-P', '-t', 'capture-kcat-groups'], lines);
  const member = ['-G', 'capture-kcat', 'capture-kcat-groups', '-X', 'session.timeout.ms=6000'];
  const more = ['-X', 'heartbeat.interval.ms=500', '-X', 'auto.offset.reset=earliest', '-q'];
  // Two members at once (a rebalance, a leader and a follower), then each leaves.
  await Promise.all([
    kcat(bootstrap, [...member, ...more], undefined, 6000),
    kcat(bootstrap, [...member, ...more], undefined, 4000),
  ]);
  // A member of a group with commits: resumes from them and exits at the end (-e).
  await kcat(bootstrap, [...member, ...more, '-e']);
}

async function kafkajsScenarios(bootstrap: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const { Kafka, logLevel } = require('kafkajs');
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafka = new Kafka({ clientId: 'capture', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = 'capture-kafkajs-groups';
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
  await producer.disconnect();
  const groupId = 'capture-kafkajs';
  const consumers = [0, 1].map(() =>
    kafka.consumer({ groupId, heartbeatInterval: 300, maxWaitTimeInMs: 100, sessionTimeout: 6000 }),
  );
  let seen = 0;
  await new Promise<void>((resolve) => {
    void (async () => {
      for (const c of consumers) {
        await c.connect();
        await c.subscribe({ topics: [topic], fromBeginning: true });
        await c.run({
          eachMessage: async () => {
            if (++seen === 10) setTimeout(resolve, 1500); // some heartbeats and commits
          },
        });
      }
    })();
  });
  for (const c of consumers) await c.disconnect();
  await admin.listGroups();
  await admin.describeGroups([groupId]);
  await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] });
  await admin.resetOffsets({ groupId, topic, earliest: true });
  await admin.deleteGroups([groupId]);
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}

const session = await CaptureSession.start({
  shapeOf,
  keep: (apiKey) => GROUP_APIS.has(apiKey),
  brokerArgs: ['--group-initial-rebalance-delay-ms', '0', '--group-min-session-timeout-ms', '1000'],
});
try {
  session.client = 'kcat';
  await kcatScenarios(session.bootstrap);
  session.client = 'kafkajs';
  await kafkajsScenarios(session.bootstrap);
} finally {
  await session.stop();
}
session.write('-groups');

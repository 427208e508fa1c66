/**
 * `sluice groups list|describe|delete|reset-offsets`, like kafka-consumer-groups.sh: describe shows
 * the group's state, its members (client id, host, assigned partitions) and, per partition, the
 * committed offset, the log end offset and the lag between them; reset-offsets plans new committed
 * offsets and, as Kafka's tool, changes nothing without --execute (and only for a group without
 * members).
 */
import type { Command } from 'commander';
import {
  Admin,
  type GroupDescription,
  type OffsetResetScope,
  type OffsetResetTarget,
  type PartitionLag,
} from '../../client/index.ts';
import { SluiceError } from '../../errors.ts';
import { addBootstrap, collect, parseInteger, parseTime } from '../client-options.ts';
import { printTable, UsageError } from '../output.ts';

interface Common {
  bootstrap: string;
  json?: boolean;
}

async function withAdmin<T>(bootstrap: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ bootstrap, reconnect: false });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

const dash = (n: number | null | undefined) => (n === null || n === undefined || n < 0 ? '-' : n);

export function registerGroups(program: Command): void {
  const groups = program
    .command('groups')
    .description('list, describe and delete consumer groups, and reset their offsets');

  addBootstrap(
    groups
      .command('list')
      .description('list consumer groups')
      .option('--state <state>', 'only groups in this state (repeatable): Empty, Stable, …', collect)
      .option('--json', 'print a JSON array'),
  ).action(async (o: Common & { state?: string[] }) => {
    const listed = await withAdmin(o.bootstrap, (admin) =>
      admin.listGroups(o.state ? { states: o.state } : {}),
    );
    if (o.json) console.log(JSON.stringify(listed));
    else
      printTable(
        ['GROUP', 'STATE', 'PROTOCOL-TYPE'],
        listed.map((g) => [g.groupId, g.state, g.protocolType || '-']),
      );
  });

  addBootstrap(
    groups
      .command('describe <group>')
      .description('state, members and per-partition offsets and lag of a group')
      .option('--offsets', 'only the per-partition offsets and lag')
      .option('--members', 'only the members and their assignments')
      .option('--state', 'only the group state')
      .option('--json', 'print one JSON document'),
  ).action(async (groupId: string, o: Common & { offsets?: boolean; members?: boolean; state?: boolean }) => {
    const [group, lag] = await withAdmin(o.bootstrap, async (admin) => {
      const [described] = await admin.describeGroups([groupId]);
      if (!described || described.state === 'Dead')
        throw new SluiceError('GROUP_ID_NOT_FOUND', `consumer group '${groupId}' does not exist`);
      return [described, await admin.lag(groupId)] as const;
    });
    if (o.json) {
      console.log(JSON.stringify(describeJson(group, lag)));
      return;
    }
    const all = !o.offsets && !o.members && !o.state;
    if (all || o.state) printState(group);
    if (all || o.members) printMembers(group, all);
    if (all || o.offsets) printOffsets(group, lag, all);
  });

  addBootstrap(
    groups
      .command('delete <groups...>')
      .description('delete groups without members, and their committed offsets')
      .option('--json', 'print the result as JSON'),
  ).action(async (groupIds: string[], o: Common) => {
    await withAdmin(o.bootstrap, (admin) => admin.deleteGroups(groupIds));
    if (o.json) console.log(JSON.stringify({ deleted: groupIds }));
    else
      console.log(
        `Deletion of requested consumer groups (${groupIds.map((g) => `'${g}'`).join(', ')}) was successful.`,
      );
  });

  addBootstrap(
    groups
      .command('reset-offsets <group>')
      .description("move a group's committed offsets (the group must have no members)")
      .option('--topic <topic>', 'a topic, or topic:p,p,… for some partitions (repeatable)', collect)
      .option('--all-topics', 'every topic the group has committed offsets for')
      .option('--to-earliest', 'to the earliest offset')
      .option('--to-latest', 'to the log end')
      .option('--to-offset <n>', 'to this offset (clamped to the log)')
      .option('--to-datetime <time>', 'to the first record at or after this time (ISO date or epoch ms)')
      .option('--shift-by <n>', 'move the committed offsets by n (negative: back)')
      .option('--dry-run', 'print the plan only (the default, with a warning)')
      .option('--execute', 'commit the new offsets')
      .option('--json', 'print the plan as JSON'),
  ).action(
    async (
      groupId: string,
      o: Common & {
        topic?: string[];
        allTopics?: boolean;
        toEarliest?: boolean;
        toLatest?: boolean;
        toOffset?: string;
        toDatetime?: string;
        shiftBy?: string;
        dryRun?: boolean;
        execute?: boolean;
      },
    ) => {
      if (o.dryRun && o.execute) throw new UsageError('give --dry-run or --execute, not both');
      if (!o.topic === !o.allTopics) throw new UsageError('give --topic (repeatable) or --all-topics');
      const target = resetTarget(o);
      const scope = o.topic?.map(parseScope);
      if (!o.dryRun && !o.execute) {
        process.stderr.write(
          'WARN: No action will be performed as the --execute option is missing. Add --dry-run to keep this behaviour without the warning.\n',
        );
      }
      const plan = await withAdmin(o.bootstrap, (admin) =>
        admin.resetOffsets(groupId, target, { ...(scope && { scope }), dryRun: !o.execute }),
      );
      if (o.json) {
        console.log(JSON.stringify({ groupId, executed: o.execute === true, partitions: plan }));
        return;
      }
      printTable(
        ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
        plan.map((p) => [groupId, p.topic, p.partition, p.newOffset]),
      );
    },
  );
}

function resetTarget(o: {
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  toDatetime?: string;
  shiftBy?: string;
}): OffsetResetTarget {
  const given = [o.toEarliest, o.toLatest, o.toOffset, o.toDatetime, o.shiftBy].filter(
    (x) => x !== undefined && x !== false,
  );
  if (given.length !== 1) {
    throw new UsageError(
      'give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by',
    );
  }
  if (o.toEarliest) return 'earliest';
  if (o.toLatest) return 'latest';
  if (o.toOffset !== undefined) return { offset: parseInteger(o.toOffset, '--to-offset', 0) };
  if (o.toDatetime !== undefined) return { timestamp: parseTime(o.toDatetime, '--to-datetime') };
  return { shiftBy: parseInteger(o.shiftBy!, '--shift-by') };
}

/** `topic` or `topic:0,2` (Kafka's --topic syntax). */
function parseScope(value: string): OffsetResetScope {
  const colon = value.lastIndexOf(':');
  if (colon < 0) return value;
  const topic = value.slice(0, colon);
  if (!topic) throw new UsageError(`--topic expects TOPIC or TOPIC:P,P,…, got "${value}"`);
  const partitions = value
    .slice(colon + 1)
    .split(',')
    .map((p) => parseInteger(p.trim(), '--topic partition', 0));
  return { topic, partitions };
}

function describeJson(group: GroupDescription, lag: PartitionLag[]) {
  return {
    groupId: group.groupId,
    state: group.state,
    protocolType: group.protocolType,
    assignor: group.protocolName,
    generationId: group.generationId,
    leader: group.leader,
    members: group.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      host: m.clientHost,
      assignment: m.assignment,
    })),
    offsets: lag.map((l) => ({
      topic: l.topic,
      partition: l.partition,
      currentOffset: l.committedOffset < 0 ? null : l.committedOffset,
      logEndOffset: l.logEndOffset < 0 ? null : l.logEndOffset,
      lag: l.lag,
      consumerId: l.memberId,
      host: l.clientHost,
      clientId: l.clientId,
    })),
  };
}

function printState(group: GroupDescription): void {
  printTable(
    ['GROUP', 'STATE', 'ASSIGNMENT-STRATEGY', 'GENERATION', '#MEMBERS'],
    [[group.groupId, group.state, group.protocolName || '-', group.generationId, group.members.length]],
  );
}

function printMembers(group: GroupDescription, spaced: boolean): void {
  if (spaced) process.stdout.write('\n');
  if (group.members.length === 0) {
    console.log(`Consumer group '${group.groupId}' has no active members.`);
    return;
  }
  printTable(
    ['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'],
    group.members.map((m) => [
      group.groupId,
      m.memberId,
      m.clientHost,
      m.clientId || '-',
      m.assignment.length,
      assignmentText(m.assignment),
    ]),
  );
}

function printOffsets(group: GroupDescription, lag: PartitionLag[], spaced: boolean): void {
  if (spaced) process.stdout.write('\n');
  if (lag.length === 0) {
    console.log(`Consumer group '${group.groupId}' has no committed offsets and no assigned partitions.`);
    return;
  }
  printTable(
    [
      'GROUP',
      'TOPIC',
      'PARTITION',
      'CURRENT-OFFSET',
      'LOG-END-OFFSET',
      'LAG',
      'CONSUMER-ID',
      'HOST',
      'CLIENT-ID',
    ],
    lag.map((l) => [
      group.groupId,
      l.topic,
      l.partition,
      dash(l.committedOffset),
      dash(l.logEndOffset),
      dash(l.lag),
      l.memberId ?? '-',
      l.clientHost ?? '-',
      l.clientId || '-',
    ]),
  );
}

/** `topic(0,1,2) other(3)`, as kafka-consumer-groups.sh --members --verbose prints it. */
function assignmentText(partitions: readonly { topic: string; partition: number }[]): string {
  if (partitions.length === 0) return '-';
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return [...byTopic]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, list]) => `${topic}(${list.sort((a, b) => a - b).join(',')})`)
    .join(' ');
}

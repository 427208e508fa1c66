/**
 * `sluice topics create|list|describe|alter|delete`, like kafka-topics.sh.
 */
import type { Command } from 'commander';
import { Admin } from '../../client/index.ts';
import { addBootstrap, collect, keyValues, parseInteger } from '../client-options.ts';
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

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('create, list, describe, alter and delete topics');

  addBootstrap(
    topics
      .command('create <name>')
      .description('create a topic')
      .option('--partitions <n>', 'number of partitions (default: the broker’s num.partitions)')
      .option('--replication-factor <n>', 'replicas (this broker keeps 1)')
      .option(
        '--config <key=value>',
        'topic config override (repeatable), e.g. retention.ms=86400000',
        collect,
      )
      .option('--if-not-exists', 'succeed if the topic already exists')
      .option('--json', 'print the result as JSON'),
  ).action(
    async (
      name: string,
      o: Common & {
        partitions?: string;
        replicationFactor?: string;
        config?: string[];
        ifNotExists?: boolean;
      },
    ) => {
      const numPartitions =
        o.partitions === undefined ? undefined : parseInteger(o.partitions, '--partitions', 1);
      const replicationFactor =
        o.replicationFactor === undefined
          ? undefined
          : parseInteger(o.replicationFactor, '--replication-factor', 1);
      const configs = keyValues(o.config, '--config');
      const [created] = await withAdmin(o.bootstrap, (admin) =>
        admin.createTopics(
          [
            {
              name,
              ...(numPartitions !== undefined && { numPartitions }),
              ...(replicationFactor !== undefined && { replicationFactor }),
              configs,
            },
          ],
          { ignoreExisting: o.ifNotExists ?? false },
        ),
      );
      if (o.json) console.log(JSON.stringify(created ?? { name, existed: true }));
      else if (created) console.log(`Created topic ${name} with ${created.numPartitions} partitions.`);
      else console.log(`Topic ${name} already exists.`);
    },
  );

  addBootstrap(
    topics
      .command('list')
      .description('list topic names')
      .option('--include-internal', 'also list internal topics (__consumer_offsets)')
      .option('--json', 'print a JSON array'),
  ).action(async (o: Common & { includeInternal?: boolean }) => {
    const names = await withAdmin(o.bootstrap, (admin) =>
      admin.listTopics({ includeInternal: o.includeInternal ?? false }),
    );
    names.sort();
    if (o.json) console.log(JSON.stringify(names));
    else for (const n of names) console.log(n);
  });

  addBootstrap(
    topics
      .command('describe [names...]')
      .description('partitions, offsets and config overrides of topics (default: all)')
      .option('--json', 'print JSON'),
  ).action(async (names: string[], o: Common) => {
    const described = await withAdmin(o.bootstrap, async (admin) => {
      const list = await admin.describeTopics(names.length > 0 ? names : undefined);
      return Promise.all(
        list
          .filter((t) => names.length > 0 || !t.isInternal)
          .map(async (t) => {
            const [configs] = await admin.describeConfigs([{ type: 'topic', name: t.name }]);
            const offsets = await admin.fetchTopicOffsets(t.name);
            return {
              name: t.name,
              topicId: t.topicId,
              partitions: t.partitions.map((p) => {
                const o = offsets.find((x) => x.partition === p.partition);
                return {
                  partition: p.partition,
                  leader: p.leader,
                  replicas: p.replicas,
                  isr: p.isr,
                  earliest: o?.low,
                  latest: o?.high,
                };
              }),
              configs: Object.fromEntries(
                (configs?.configs ?? []).filter((c) => c.source === 'TOPIC').map((c) => [c.name, c.value]),
              ),
            };
          }),
      );
    });
    if (o.json) {
      console.log(JSON.stringify(described));
      return;
    }
    for (const t of described) {
      const overrides = Object.entries(t.configs)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      console.log(
        `Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tConfigs: ${overrides}`,
      );
      printTable(
        ['Partition', 'Leader', 'Replicas', 'Isr', 'EarliestOffset', 'LatestOffset'],
        t.partitions.map((p) => [
          p.partition,
          p.leader,
          p.replicas.join(','),
          p.isr.join(','),
          p.earliest ?? '-',
          p.latest ?? '-',
        ]),
      );
    }
  });

  addBootstrap(
    topics
      .command('alter <name>')
      .description('change topic configs, or grow the partition count')
      .option('--config <key=value>', 'set a config override (repeatable)', collect)
      .option('--delete-config <key>', 'remove a config override (repeatable)', collect)
      .option('--partitions <n>', 'new (larger) partition count'),
  ).action(
    async (name: string, o: Common & { config?: string[]; deleteConfig?: string[]; partitions?: string }) => {
      const set = keyValues(o.config, '--config');
      const remove = o.deleteConfig ?? [];
      const partitions =
        o.partitions === undefined ? undefined : parseInteger(o.partitions, '--partitions', 1);
      if (Object.keys(set).length === 0 && remove.length === 0 && partitions === undefined) {
        throw new UsageError('nothing to alter: give --config, --delete-config or --partitions');
      }
      await withAdmin(o.bootstrap, async (admin) => {
        if (partitions !== undefined) await admin.createPartitions([{ name, count: partitions }]);
        if (Object.keys(set).length > 0 || remove.length > 0) {
          await admin.alterConfigs([{ type: 'topic', name, set, delete: remove }]);
        }
      });
      console.log(`Altered topic ${name}.`);
    },
  );

  addBootstrap(topics.command('delete <names...>').description('delete topics and all their records')).action(
    async (names: string[], o: Common) => {
      await withAdmin(o.bootstrap, (admin) => admin.deleteTopics(names));
      for (const n of names) console.log(`Deleted topic ${n}.`);
    },
  );
}

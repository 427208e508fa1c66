/**
 * `sluice`: the broker and its command-line tools. Kafka-tool and Unix conventions: `--help` on every
 * command, results on stdout (`--json` for one JSON document), errors on stderr, exit codes 0 / 1
 * (failure) / 2 (usage).
 */
import { Command, CommanderError } from 'commander';
import { SERVER_VERSION } from '../broker/broker.ts';
import { registerBench } from './commands/bench.ts';
import { registerConsume } from './commands/consume.ts';
import { registerGroups } from './commands/groups.ts';
import { registerOffsets } from './commands/offsets.ts';
import { registerProduce } from './commands/produce.ts';
import { registerStart } from './commands/start.ts';
import { registerTopics } from './commands/topics.ts';
import { EXIT_USAGE, exitCodeFor, printError } from './output.ts';

const program = new Command()
  .name('sluice')
  .description('Sluice: a Kafka-style persistent publish/subscribe log broker')
  .version(SERVER_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerStart(program);
registerTopics(program);
registerProduce(program);
registerConsume(program);
registerOffsets(program);
registerGroups(program);
registerBench(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed the message (and help for --help / --version, which exit 0).
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    printError(err);
    process.exitCode = exitCodeFor(err);
  }
}

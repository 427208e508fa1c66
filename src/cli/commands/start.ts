/**
 * `sluice start`: run the broker in the foreground until SIGINT/SIGTERM.
 * Every setting of src/config.ts is a flag (`--log-retention-ms`), an environment variable
 * (`SLUICE_LOG_RETENTION_MS`) or a line of `--config FILE`.
 */
import { type Command, Option } from 'commander';
import { Broker, SERVER_VERSION } from '../../broker/broker.ts';
import { DataDirLockedError } from '../../broker/data-dir.ts';
import { ConfigError, flagName, resolveConfig, SETTINGS, type SettingKey } from '../../config.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, logLine } from '../output.ts';

/** Commander's camelCase attribute name of a setting's flag. */
function attributeOf(key: SettingKey): string {
  return flagName(key)
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function registerStart(program: Command): void {
  const cmd = program
    .command('start')
    .description('run the broker (HTTP + WebSocket, and the Kafka port) until SIGINT or SIGTERM')
    .option('--config <file>', 'settings file: key=value lines (Kafka style) or JSON (*.json)');
  for (const [key, spec] of Object.entries(SETTINGS) as [SettingKey, (typeof SETTINGS)[SettingKey]][]) {
    const flag = spec.kind === 'bool' ? `${flagName(key)} <true|false>` : `${flagName(key)} <value>`;
    cmd.addOption(new Option(flag, `${spec.doc} (default: ${String(spec.default)})`));
  }
  cmd.action(async (options: Record<string, unknown>) => {
    process.exitCode = await start(options);
  });
}

async function start(options: Record<string, unknown>): Promise<number> {
  let resolved: ReturnType<typeof resolveConfig>;
  try {
    const flags: Partial<Record<SettingKey, unknown>> = {};
    for (const key of Object.keys(SETTINGS) as SettingKey[]) flags[key] = options[attributeOf(key)];
    const file = (options.config as string | undefined) ?? process.env.SLUICE_CONFIG;
    resolved = resolveConfig({ flags, env: process.env, ...(file !== undefined && { file }) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sluice start: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const { config, sources } = resolved;
  logLine('INFO', `Sluice ${SERVER_VERSION} starting: data directory ${config['data.dir']}`);
  let broker: Broker;
  try {
    broker = await Broker.start(config, sources, {
      info: (m) => logLine('INFO', m),
      error: (m) => logLine('ERROR', m),
    });
  } catch (err) {
    logLine(
      'ERROR',
      err instanceof DataDirLockedError ? err.message : `cannot start: ${(err as Error).stack ?? err}`,
    );
    return EXIT_FAILURE;
  }
  // One machine-readable line on stdout, for scripts and tests.
  process.stdout.write(
    `sluice ready ws=${broker.wsUrl} http=http://${broker.context.advertised.host}:${broker.port} ` +
      `kafka=${broker.context.advertised.host}:${broker.context.advertised.kafkaPort} data=${config['data.dir']}\n`,
  );
  logLine(
    'INFO',
    `ready: WebSocket and HTTP on ${broker.wsUrl}, Kafka on ${broker.context.advertised.host}:${broker.context.advertised.kafkaPort}`,
  );

  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        logLine(
          'WARN',
          `${signal} again: exiting without a clean shutdown (recovery will run at the next start)`,
        );
        process.exit(EXIT_FAILURE);
      }
      signalled = true;
      logLine('INFO', `${signal}: shutting down (finishing in-flight requests, flushing partitions)`);
      broker.stop().then(
        () => {
          logLine('INFO', 'stopped cleanly');
          resolve(EXIT_OK);
        },
        (err: unknown) => {
          logLine('ERROR', `shutdown failed: ${(err as Error).stack ?? err}`);
          resolve(EXIT_FAILURE);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPIC_CONFIGS } from '../../src/broker/topic-config.ts';
import { ConfigError, envName, flagName, resolveConfig, SETTINGS } from '../../src/config.ts';

function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-config-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('broker configuration', () => {
  it('takes flags over environment over file over defaults', () => {
    const file = tempFile(
      'server.properties',
      '# a comment\nport=7100\nkafka.port=9100\nworkers = 3\nlog.retention.ms=1000\n',
    );
    const { config, sources } = resolveConfig({
      file,
      env: { SLUICE_PORT: '7200', SLUICE_WORKERS: '4', PATH: '/bin' },
      flags: { port: '7300' },
    });
    expect(config.port).toBe(7300);
    expect(sources.port).toBe('flag');
    expect(config.workers).toBe(4);
    expect(sources.workers).toBe('env');
    expect(config['kafka.port']).toBe(9100);
    expect(sources['kafka.port']).toBe('file');
    expect(config['log.retention.ms']).toBe(1000);
    expect(config['data.dir']).toBe('./data');
    expect(sources['data.dir']).toBe('default');
  });

  it('reads JSON config files', () => {
    const file = tempFile(
      'sluice.json',
      JSON.stringify({ 'data.dir': '/var/lib/sluice', 'auto.create.topics.enable': false }),
    );
    const { config } = resolveConfig({ file });
    expect(config['data.dir']).toBe('/var/lib/sluice');
    expect(config['auto.create.topics.enable']).toBe(false);
  });

  it('refuses unknown keys and bad values in every source', () => {
    expect(() => resolveConfig({ file: tempFile('a.properties', 'log.dirs=/x\n') })).toThrowError(
      /unknown setting "log.dirs"/,
    );
    expect(() => resolveConfig({ env: { SLUICE_PROT: '1' } })).toThrowError(/unknown setting SLUICE_PROT/);
    expect(() => resolveConfig({ flags: { port: '70000' } })).toThrowError(ConfigError);
    expect(() => resolveConfig({ flags: { port: 'seven' } })).toThrowError(/must be an integer/);
    expect(() => resolveConfig({ flags: { 'auto.create.topics.enable': 'yes' } })).toThrowError(
      /true or false/,
    );
    expect(() => resolveConfig({ file: tempFile('b.properties', 'just words\n') })).toThrowError(
      /expected key=value/,
    );
    expect(() => resolveConfig({ file: '/nonexistent/sluice.properties' })).toThrowError(
      /cannot read config file/,
    );
  });

  it('is documented in docs/configuration.md, key by key', () => {
    const doc = fs.readFileSync('docs/configuration.md', 'utf8');
    const brokerKeys = [
      ...doc.matchAll(/^\|\s*`([a-z.]+)`\s*\|\s*`(--[a-z-]+)`\s*\|\s*`(SLUICE_[A-Z_]+)`\s*\|/gm),
    ];
    expect(brokerKeys.map((m) => m[1]).sort()).toEqual(Object.keys(SETTINGS).sort());
    for (const m of brokerKeys) {
      expect(m[2]).toBe(flagName(m[1] as keyof typeof SETTINGS));
      expect(m[3]).toBe(envName(m[1] as keyof typeof SETTINGS));
    }
    const topicKeys = [...doc.matchAll(/^\|\s*`([a-z.]+)`\s*\|\s*(`[^`]+`)\s*\|/gm)]
      .map((m) => m[1])
      .filter((k) => !(k! in SETTINGS));
    expect(topicKeys.sort()).toEqual(Object.keys(TOPIC_CONFIGS).sort());
  });
});

/**
 * Compaction settings from the outside in: the broker's log.cleaner.* settings (including the
 * decimal ratio), the topic configs that default to them, cleanup.policy spellings, and their
 * mapping onto the storage LogConfig.
 */
import { describe, expect, it } from 'vitest';
import { toLogConfig, validateTopicConfig } from '../../../src/broker/topic-config.ts';
import { ConfigError, resolveConfig } from '../../../src/config.ts';
import { DEFAULT_LOG_CONFIG } from '../../../src/storage/log-config.ts';

describe('compaction configuration', () => {
  it('has Kafka’s defaults, at the broker and in the storage defaults', () => {
    const { config } = resolveConfig({});
    expect(config).toMatchObject({
      'log.cleaner.enable': true,
      'log.cleaner.backoff.ms': 15000,
      'log.cleaner.min.cleanable.ratio': 0.5,
      'log.cleaner.delete.retention.ms': 86400000,
      'log.cleaner.min.compaction.lag.ms': 0,
    });
    expect(toLogConfig({}, config)).toMatchObject({
      cleanupPolicy: 'delete',
      minCleanableDirtyRatio: 0.5,
      deleteRetentionMs: 86400000,
      minCompactionLagMs: 0,
      cleanerEnable: true,
      cleanerBackoffMs: 15000,
    });
    expect(DEFAULT_LOG_CONFIG).toMatchObject({
      minCleanableDirtyRatio: 0.5,
      deleteRetentionMs: 86400000,
      minCompactionLagMs: 0,
      cleanerEnable: true,
      cleanerBackoffMs: 15000,
    });
  });

  it('parses the broker ratio as a decimal in [0, 1] from every source', () => {
    const { config } = resolveConfig({
      env: { SLUICE_LOG_CLEANER_MIN_CLEANABLE_RATIO: '0.25', SLUICE_LOG_CLEANER_ENABLE: 'false' },
      flags: { 'log.cleaner.backoff.ms': '500' },
    });
    expect(config['log.cleaner.min.cleanable.ratio']).toBe(0.25);
    expect(config['log.cleaner.enable']).toBe(false);
    expect(toLogConfig({}, config)).toMatchObject({
      minCleanableDirtyRatio: 0.25,
      cleanerEnable: false,
      cleanerBackoffMs: 500,
    });
    for (const bad of ['1.5', '-0.1', 'half', '', '0.5x'])
      expect(() => resolveConfig({ flags: { 'log.cleaner.min.cleanable.ratio': bad } })).toThrowError(
        ConfigError,
      );
    expect(
      resolveConfig({ flags: { 'log.cleaner.min.cleanable.ratio': '1' } }).config[
        'log.cleaner.min.cleanable.ratio'
      ],
    ).toBe(1);
  });

  it('accepts every cleanup.policy Kafka accepts, in a canonical spelling', () => {
    expect(validateTopicConfig('cleanup.policy', 'delete')).toBe('delete');
    expect(validateTopicConfig('cleanup.policy', 'compact')).toBe('compact');
    expect(validateTopicConfig('cleanup.policy', 'compact,delete')).toBe('compact,delete');
    expect(validateTopicConfig('cleanup.policy', 'delete,compact')).toBe('compact,delete');
    expect(validateTopicConfig('cleanup.policy', ' delete , compact ')).toBe('compact,delete');
    for (const bad of ['', 'compact,compact', 'compress', 'compact,', 'delete;compact']) {
      expect(() => validateTopicConfig('cleanup.policy', bad)).toThrowError(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      );
    }
  });

  it('validates and maps the topic compaction configs', () => {
    const { config } = resolveConfig({});
    expect(validateTopicConfig('min.cleanable.dirty.ratio', '0.1')).toBe('0.1');
    expect(validateTopicConfig('min.cleanable.dirty.ratio', '1')).toBe('1');
    expect(() => validateTopicConfig('min.cleanable.dirty.ratio', '2')).toThrowError(/\[0, 1\]/);
    expect(() => validateTopicConfig('delete.retention.ms', '-1')).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    const log = toLogConfig(
      {
        'cleanup.policy': validateTopicConfig('cleanup.policy', 'delete,compact'),
        'min.cleanable.dirty.ratio': '0.1',
        'delete.retention.ms': '1000',
        'min.compaction.lag.ms': '60000',
      },
      config,
    );
    expect(log).toMatchObject({
      cleanupPolicy: 'compact,delete',
      minCleanableDirtyRatio: 0.1,
      deleteRetentionMs: 1000,
      minCompactionLagMs: 60000,
    });
  });
});

import { describe, expect, it } from 'vitest';
import {
  checkTopicName,
  describeTopicConfig,
  toLogConfig,
  validateTopicConfig,
} from '../../../src/broker/topic-config.ts';
import { resolveConfig } from '../../../src/config.ts';

describe('topic configuration', () => {
  const { config, sources } = resolveConfig({ flags: { 'log.retention.ms': '5000' } });

  it('applies Kafka’s topic-name rules', () => {
    for (const ok of ['a', 'orders.v2', 'under_score', 'dash-ed', 'x'.repeat(249)])
      expect(() => checkTopicName(ok)).not.toThrow();
    for (const bad of ['', '.', '..', 'has space', 'slash/y', 'ünïcode', 'x'.repeat(250)]) {
      expect(() => checkTopicName(bad)).toThrowError(
        expect.objectContaining({ code: 'INVALID_TOPIC_EXCEPTION' }),
      );
    }
  });

  it('validates values by type and range', () => {
    expect(validateTopicConfig('retention.ms', ' 60000 ')).toBe('60000');
    expect(validateTopicConfig('message.timestamp.type', 'LogAppendTime')).toBe('LogAppendTime');
    expect(() => validateTopicConfig('retention.ms', '-2')).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect(() => validateTopicConfig('segment.bytes', 'big')).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect(() => validateTopicConfig('no.such.key', '1')).toThrowError(/unknown topic config/);
    expect(validateTopicConfig('cleanup.policy', 'compact')).toBe('compact');
    expect(validateTopicConfig('cleanup.policy', 'delete,compact')).toBe('compact,delete');
    expect(() => validateTopicConfig('cleanup.policy', 'compress')).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });

  it('maps overrides and broker defaults onto the log configuration', () => {
    const log = toLogConfig({ 'segment.bytes': '4096', 'flush.messages': '1' }, config);
    expect(log).toMatchObject({
      segmentBytes: 4096,
      flushMessages: 1,
      retentionMs: 5000,
      maxMessageBytes: 1048588,
    });
  });

  it('describes where each value comes from', () => {
    const entries = describeTopicConfig({ 'segment.bytes': '4096' }, config, sources);
    expect(entries.find((e) => e.name === 'segment.bytes')).toMatchObject({
      value: '4096',
      source: 'TOPIC',
      isDefault: false,
    });
    expect(entries.find((e) => e.name === 'retention.ms')).toMatchObject({ value: '5000', source: 'BROKER' });
    expect(entries.find((e) => e.name === 'max.message.bytes')).toMatchObject({
      value: '1048588',
      source: 'DEFAULT',
      isDefault: true,
    });
  });
});

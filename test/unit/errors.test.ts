import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, errorCodeFromKafka, SluiceError, toErrorData } from '../../src/errors.ts';

describe('error registry', () => {
  it('is documented in docs/errors.md, code by code, with the same Kafka codes', () => {
    const doc = fs.readFileSync('docs/errors.md', 'utf8');
    const rows = new Map<string, string[]>();
    for (const m of doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(-?\d+)\s*\|\s*(yes|no)\s*\|\s*(\d+)\s*\|/gm))
      rows.set(m[1]!, [m[2]!, m[3]!, m[4]!]);
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(rows.get(code), code).toEqual([
        String(spec.kafkaCode),
        spec.retriable ? 'yes' : 'no',
        String(spec.wsCloseCode),
      ]);
    }
  });

  it('rebuilds errors that crossed a thread or the wire, and maps Kafka codes back to names', () => {
    const err = SluiceError.from({ code: 'OFFSET_OUT_OF_RANGE', message: 'offset 9 is beyond 3' });
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toMatchObject({
      code: 'OFFSET_OUT_OF_RANGE',
      kafkaCode: 1,
      retriable: false,
      message: 'offset 9 is beyond 3',
    });
    expect(SluiceError.from({ code: 'NOT_A_CODE', message: 'x' }).code).toBe('UNKNOWN_SERVER_ERROR');
    expect(toErrorData(new TypeError('boom'))).toEqual({ code: 'UNKNOWN_SERVER_ERROR', message: 'boom' });
    expect(errorCodeFromKafka(0)).toBeUndefined();
    expect(errorCodeFromKafka(3)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(errorCodeFromKafka(6)).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(errorCodeFromKafka(9999)).toBe('UNKNOWN_SERVER_ERROR');
  });
});

import { describe, expect, it } from 'vitest';
import type { BrokerContext } from '../../../../src/router/broker-context.ts';
import { FetchReadAhead } from '../../../../src/router/handlers/fetch.ts';

function fakeContext(reads: { offset: number; maxBytes: number }[]): BrokerContext {
  return {
    engine: {
      read: (_t: string, _p: number, offset: number, maxBytes: number) => {
        reads.push({ offset, maxBytes });
        return Promise.resolve({ highWatermark: 100, logStartOffset: 0, bytes: new Uint8Array(1) });
      },
    },
  } as unknown as BrokerContext;
}

describe('FetchReadAhead', () => {
  it('hands a read ahead out once, only for the same topic id, offset and size', async () => {
    const reads: { offset: number; maxBytes: number }[] = [];
    const ctx = fakeContext(reads);
    const ahead = new FetchReadAhead();
    ahead.start(ctx, 't', 'id-1', 0, 10, 1024);
    ahead.start(ctx, 't', 'id-1', 0, 20, 1024); // one per partition: ignored
    expect(reads).toEqual([{ offset: 10, maxBytes: 1024 }]);
    expect(ahead.take('t-0', 'id-1', 10, 1024)).toBeDefined();
    expect(ahead.take('t-0', 'id-1', 10, 1024)).toBeUndefined(); // used up
    ahead.start(ctx, 't', 'id-1', 0, 30, 1024);
    expect(ahead.take('t-0', 'id-1', 31, 1024)).toBeUndefined(); // another offset: dropped
    ahead.start(ctx, 't', 'id-1', 0, 30, 1024);
    expect(ahead.take('t-0', 'id-2', 30, 1024)).toBeUndefined(); // the topic was deleted and created again
    ahead.start(ctx, 't', 'id-1', 0, 30, 1024);
    expect(ahead.take('t-0', 'id-1', 30, 512)).toBeUndefined(); // another size
  });

  it('bounds the bytes it holds per connection', () => {
    const reads: { offset: number; maxBytes: number }[] = [];
    const ctx = fakeContext(reads);
    const ahead = new FetchReadAhead();
    for (let p = 0; p < 100; p++) ahead.start(ctx, 't', 'id', p, 0, 4 * 1024 * 1024);
    expect(reads.length).toBe(8); // 32 MiB of 4 MiB reads
    ahead.clear();
    ahead.start(ctx, 't', 'id', 0, 0, 1024);
    expect(reads.length).toBe(9);
  });
});

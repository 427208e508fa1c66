/**
 * The client must bundle for browsers with no Node built-ins: esbuild bundles src/client/index.ts for
 * platform 'browser' with nothing external, swapping the two Node-only codec modules for their
 * browser stand-ins (browser-build.ts). esbuild fails on any `node:` import it cannot resolve for the
 * browser; the metafile is checked too, so that a stub sneaking in (ws's browser stub is fine, a Node
 * module is not) is caught.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { browserAliases, sluiceBrowserPlugin } from '../../../src/client/browser-build.ts';
import { compress, decompress } from '../../../src/client/browser-compression.ts';

describe('browser bundle', () => {
  it('bundles src/client/index.ts for the browser without Node built-ins or native addons', async () => {
    const result = await build({
      entryPoints: ['src/client/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
      plugins: [sluiceBrowserPlugin()],
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('src/client/connection.ts');
    expect(inputs).toContain('src/protocol/kafka/crc32c-js.ts');
    expect(inputs).toContain('src/client/browser-compression.ts');
    const forbidden = inputs.filter((p) =>
      /(^node:|@node-rs|lz4-napi|snappy|@mongodb-js|bufferutil|src\/protocol\/kafka\/(crc32c|compression)\.ts$|ws\/(index|wrapper|lib\/))/.test(
        p,
      ),
    );
    expect(forbidden).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/require\(["']node:/);
    expect(code).not.toMatch(/from ["']node:/);
  });

  it('without the plugin, bundling fails on the Node-only modules (the test can see a regression)', async () => {
    await expect(
      build({
        entryPoints: ['src/client/index.ts'],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        logLevel: 'silent',
      }),
    ).rejects.toThrow();
  });

  it('maps exactly the two Node-only modules', () => {
    const entries = Object.entries(browserAliases).map(([from, to]) => [
      from.split('/src/')[1],
      to.split('/src/')[1],
    ]);
    expect(entries).toEqual([
      ['protocol/kafka/crc32c.ts', 'protocol/kafka/crc32c-js.ts'],
      ['protocol/kafka/compression.ts', 'client/browser-compression.ts'],
    ]);
  });

  it('browser codecs: gzip through CompressionStream, the others refused with a clear error', async () => {
    const data = new TextEncoder().encode('hello browser '.repeat(100));
    const gz = await compress('gzip', data);
    expect(gz.length).toBeLessThan(data.length);
    expect(Buffer.from(await decompress(1, gz)).equals(Buffer.from(data))).toBe(true);
    await expect(decompress(1, gz, 10)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    await expect(compress('lz4', data)).rejects.toMatchObject({ code: 'UNSUPPORTED_COMPRESSION_TYPE' });
    await expect(decompress(4, data)).rejects.toMatchObject({ code: 'UNSUPPORTED_COMPRESSION_TYPE' });
  });
});

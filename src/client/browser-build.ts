/**
 * Build-time helper for browser bundles of the client (runs in Node, inside a bundler; never part of
 * a bundle itself, and not exported from index.ts).
 *
 * Two modules of the shared codec layer are Node-only and have browser stand-ins:
 *   src/protocol/kafka/crc32c.ts       (@node-rs/crc32, native)  → src/protocol/kafka/crc32c-js.ts
 *   src/protocol/kafka/compression.ts  (zlib, snappy, lz4, zstd) → src/client/browser-compression.ts
 * A browser bundle must swap them. `sluiceBrowserPlugin()` does it for esbuild; `browserAliases` gives
 * the same mapping as absolute paths for other bundlers (docs/client.md shows Vite and webpack).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const kafkaDir = path.resolve(here, '../protocol/kafka');

/** Absolute path of each Node-only module → absolute path of its browser stand-in. */
export const browserAliases: Readonly<Record<string, string>> = {
  [path.join(kafkaDir, 'crc32c.ts')]: path.join(kafkaDir, 'crc32c-js.ts'),
  [path.join(kafkaDir, 'compression.ts')]: path.join(here, 'browser-compression.ts'),
};

/** The part of esbuild's plugin interface this plugin uses (so esbuild stays an optional tool). */
export interface EsbuildPluginLike {
  name: string;
  setup(build: {
    onResolve(
      options: { filter: RegExp },
      callback: (args: { path: string; resolveDir: string }) => { path: string } | undefined,
    ): void;
  }): void;
}

/** An esbuild plugin that swaps the Node-only codec modules for their browser stand-ins. */
export function sluiceBrowserPlugin(): EsbuildPluginLike {
  return {
    name: 'sluice-browser',
    setup(build) {
      build.onResolve({ filter: /(^|[/\\])(crc32c|compression)\.ts$/ }, (args) => {
        const replacement = browserAliases[path.resolve(args.resolveDir, args.path)];
        return replacement ? { path: replacement } : undefined;
      });
    },
  };
}

/**
 * Small metadata files (checkpoints, snapshots, the topic registry, cluster metadata) are replaced
 * whole: written to `<file>.tmp`, fsynced, then renamed over the old one, so after a crash a reader
 * finds the old or the new content, never a torn mix. Leftover `.tmp` files are ignored (and the
 * partition log removes them on open).
 */
import fs from 'node:fs';

/** Replace `file` with `text` atomically (see the module comment). */
export function writeFileAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Replace `file` with `value` as JSON, atomically. */
export function writeJsonAtomically(file: string, value: unknown, indent?: number): void {
  writeFileAtomically(file, JSON.stringify(value, null, indent));
}

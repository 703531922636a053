/**
 * Replace a file's content all at once: write a temporary file beside it, then rename over it, so a
 * reader (or a crash) sees the old file or the new one, never half of one. Keeps the file's mode, and
 * writes through a symlink to the file it points at.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  const real = realpathSync(file);
  const mode = statSync(real).mode & 0o7777;
  const temp = join(dirname(real), `.${basename(real)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
    fsyncSync(fd);
    closeSync(fd);
    chmodSync(temp, mode); // openSync's mode is masked by the umask
    renameSync(temp, real);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    unlinkSync(temp);
    throw err;
  }
}

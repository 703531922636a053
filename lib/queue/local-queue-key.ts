/**
 * The embedded mode's queue key: `FJORD_QUEUE_KEY` when set, else a key generated on first start and kept
 * in `<data dir>/queue.key` (mode 0600, created exclusively so two starts never write different keys). A
 * fresh machine needs no set-up, and the journal's jobs stay checked: a record changed or added by hand
 * without the key is refused. `fjord deploy`/`rollback` do not queue (they run in-process), so only the
 * process that owns the queue needs it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Secret } from '../secret.js';
import { QueueKey, queueKeyFromEnv } from './queue-key.js';

export const LOCAL_KEY_FILE = 'queue.key';

export async function localQueueKey(env: Record<string, string | undefined>, dataDir: string): Promise<QueueKey> {
  const fromEnv = queueKeyFromEnv(env);
  if (fromEnv) return fromEnv;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, LOCAL_KEY_FILE);
  try {
    await writeFile(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return new QueueKey([new Secret((await readFile(file, 'utf8')).trim())]);
}

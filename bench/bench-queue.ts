/** THE queue the receiver benchmark's server uses: the embedded durable queue (fsync on), as `npm start` runs it. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalQueue, type LocalQueue } from '../lib/queue/local.js';
import { localQueueKey } from '../lib/queue/local-queue-key.js';

/** `fsync: false` only for the diagnosis row of bench/receiver (what the durable write costs). */
export async function makeBenchQueue({ fsync = true }: { fsync?: boolean } = {}): Promise<LocalQueue> {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-bench-'));
  return createLocalQueue({ dir, key: await localQueueKey({}, dir), fsync });
}

/** THE queue the receiver benchmark's server uses: the embedded durable queue (fsync on), as `npm start` runs it. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalQueue } from '../lib/queue/local.js';
import { localQueueKey } from '../lib/queue/local-queue-key.js';
import type { Queue } from '../lib/queue/queue.js';

export async function makeBenchQueue(): Promise<Queue> {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-bench-'));
  return createLocalQueue({ dir, key: await localQueueKey({}, dir) });
}

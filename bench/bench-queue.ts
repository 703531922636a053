/** THE queue the receiver benchmark's server uses: the embedded durable queue (fsync on), as `npm start` runs it. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalQueue } from '../lib/queue/local.js';
import type { Queue } from '../lib/queue/queue.js';

export async function makeBenchQueue(): Promise<Queue> {
  return createLocalQueue({ dir: mkdtempSync(join(tmpdir(), 'fjord-bench-')) });
}

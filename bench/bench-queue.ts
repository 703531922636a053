/**
 * THE queue the receiver benchmark's server uses. Temporary: the in-memory queue; once lib/queue/local.ts
 * is merged, return `createLocalQueue({ dir: mkdtempSync(join(tmpdir(), 'fjord-bench-')) })` here so the
 * benchmark measures the durable enqueue DESIGN.md asks for.
 */
import type { Queue } from '../lib/queue/queue.js';
import { MemoryQueue } from '../test/fixtures/memory-queue.js';

export async function makeBenchQueue(): Promise<Queue> {
  return new MemoryQueue();
}

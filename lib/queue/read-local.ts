/**
 * A read-only look at an embedded queue (`fjord queue ls`): replays the journal without taking the
 * writer's lock and without changing any file, so it works next to a running `fjord start`.
 */
import { join, resolve } from 'node:path';
import { listDeadOf, listOf, type QueueEntry } from './list-entries.js';
import type { DeadLetter } from './queue.js';
import { readState } from './read-state.js';

export interface LocalQueueView {
  list(): QueueEntry[];
  listDead(): DeadLetter[];
}

export async function readLocalQueue(dir: string, now: () => number = Date.now): Promise<LocalQueueView> {
  // The writer replaces the file by rename: this read sees the old or the new journal, whole.
  const state = await readState(join(dir, 'journal.log'));
  return { list: () => listOf(state, now()), listDead: () => listDeadOf(state) };
}

/** `$FJORD_DATA_DIR/queue`, the data directory defaulting to `./.fjord` under `cwd`. */
export function localQueueDir(env: NodeJS.ProcessEnv, cwd: string): string {
  return join(resolve(cwd, env.FJORD_DATA_DIR || '.fjord'), 'queue');
}

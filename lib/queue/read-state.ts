/** Replays a journal file into a `QueueState`; a missing file is an empty queue. */
import { readFile } from 'node:fs/promises';
import { parseJournal } from './records.js';
import { QueueState } from './state.js';

export async function readState(file: string): Promise<QueueState> {
  const state = new QueueState();
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return state;
    throw err;
  }
  // A torn tail (the write a kill -9 interrupted) is skipped; its sender was never answered.
  for (const record of parseJournal(data, file).records) state.apply(record);
  state.sortDedup();
  return state;
}

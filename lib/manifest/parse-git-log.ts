/** Parses `git log --format=LOG_FORMAT` output (see git-commands.ts) into history entries. */
import type { HistoryEntry } from './store.js';
import { parseTrailers } from './trailers.js';

export function parseLog(output: string): HistoryEntry[] {
  return output
    .split('\x1e')
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.length > 0)
    .map((record) => {
      const [commitId = '', name = '', email = '', authoredAt = '', message = ''] = record.split('\0');
      return { commitId, message, trailers: parseTrailers(message), authoredAt, author: { name, email } };
    });
}

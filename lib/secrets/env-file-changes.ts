/**
 * What a host's env file change does, by variable name: the file the host has now (read over SSH, kept
 * in memory, every value registered as a Secret so that none is ever printed) against the one it gets.
 */
import { Secret } from '../secret.js';
import { parseDotenv } from './env-values.js';
import { keyChanges, type KeyChanges } from './key-changes.js';

export function envFileChanges(onHost: string, next: Secret): KeyChanges {
  const read = (text: string) => {
    try {
      return parseDotenv(text, 'env file');
    } catch {
      return new Map<string, string>(); // not a file fjord wrote: every key counts as added
    }
  };
  const before = read(onHost);
  for (const v of before.values()) new Secret(v);
  return keyChanges(before, read(next.reveal()));
}

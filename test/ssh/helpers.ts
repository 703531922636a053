/** Shared bits of the SSH tests (not a test file itself). */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SshOptions } from '../../lib/ssh/types.js';

export const OPTIONS: SshOptions = { connectTimeoutMs: 10_000, commandTimeoutMs: 30_000 };

/** Is `pid` a live process (a zombie counts as dead: it no longer runs)? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** Polls `check` until it holds or `ms` pass; returns its last answer. */
export async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

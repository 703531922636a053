/**
 * One writer per queue directory: a lock file made with link(2), which fails if the name exists, so two
 * processes cannot both create it. It names its owner by pid and process start time; a lock left by a
 * dead process (kill -9, a restarted container whose new process got the same pid) is taken over.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QueueLocked } from './errors.js';

interface Owner {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux), to tell a reused pid apart. */
  start: string | null;
  nonce: string;
}

/** Locks taken by this process, by nonce: a second open of the same directory here is refused too. */
const heldHere = new Set<string>();

export interface Lock {
  release(): Promise<void>;
}

/** Takes `dir/lock` or throws `QueueLocked` naming the live owner. */
export async function acquireLock(dir: string): Promise<Lock> {
  const path = join(dir, 'lock');
  const me: Owner = { pid: process.pid, start: startTimeOf(process.pid), nonce: randomUUID() };
  const mine = join(dir, `lock.${me.nonce}`);
  await writeFile(mine, JSON.stringify(me), { mode: 0o600 });
  try {
    for (let tries = 0; tries < 5; tries++) {
      try {
        await link(mine, path);
        heldHere.add(me.nonce);
        await removeLeftovers(dir, me.nonce);
        return { release: () => release(path, me.nonce) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = await readOwner(path);
      if (owner && isAlive(owner)) throw new QueueLocked(dir, owner.pid);
      // Stale. Move it aside first: only one contender's rename of this file succeeds.
      const aside = join(dir, `lock.stale.${me.nonce}`);
      try {
        await rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = await readOwner(aside);
      if (moved && moved.nonce !== owner?.nonce && isAlive(moved)) {
        // Between our read and our rename another process took the lock: put its file back.
        await link(aside, path).catch(() => {});
        await unlink(aside).catch(() => {});
        throw new QueueLocked(dir, moved.pid);
      }
      await unlink(aside).catch(() => {});
    }
    throw new QueueLocked(dir);
  } finally {
    await unlink(mine).catch(() => {});
  }
}

/** Removes `lock.<nonce>` files that processes killed while taking the lock left behind. */
async function removeLeftovers(dir: string, nonce: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith('lock.') || name.endsWith(nonce)) continue;
    const owner = await readOwner(join(dir, name));
    if (!owner || !isAlive(owner)) await unlink(join(dir, name)).catch(() => {});
  }
}

async function release(path: string, nonce: string): Promise<void> {
  heldHere.delete(nonce);
  const owner = await readOwner(path);
  if (owner?.nonce === nonce) await unlink(path).catch(() => {});
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Owner;
    return typeof value.pid === 'number' ? value : undefined;
  } catch {
    return undefined; // gone, or unreadable: treated as stale
  }
}

function isAlive(owner: Owner): boolean {
  if (owner.pid === process.pid) return heldHere.has(owner.nonce);
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Alive by pid; on Linux also check it is the same process (and not a zombie awaiting its parent).
  const start = startTimeOf(owner.pid);
  if (start === null) return true;
  return start !== 'zombie' && (owner.start === null || owner.start === start);
}

/** Field 22 of /proc/<pid>/stat (start time), 'zombie' for a dead unreaped process, null off Linux. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return 'zombie';
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

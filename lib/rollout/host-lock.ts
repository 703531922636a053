/** The host lock over a session: acquire (or take over a stale one) and release; see state-commands.ts. */
import type { SshSession } from '../ssh/types.js';
import { CommandFailed } from '../ssh/errors.js';
import { LockHeld } from './errors.js';
import { acquireLock, breakLock, LOCK_HELD_EXIT, releaseLock } from './state-commands.js';

export interface LockResult {
  /** The previous owner's file when a stale lock was taken over. */
  takenOverFrom?: string;
}

const withoutToken = (owner: string) =>
  owner
    .split('\n')
    .filter((l) => l && !l.startsWith('token='))
    .join('\n');

/** Judges the acquire script's result: `LockHeld` naming the owner, CommandFailed, or what was taken over. */
export function lockResult(
  host: string,
  argv: string[],
  r: { exitCode: number; stdout: string; stderr: string },
): LockResult {
  if (r.exitCode === LOCK_HELD_EXIT) throw new LockHeld(host, withoutToken(r.stdout));
  if (r.exitCode !== 0) throw new CommandFailed(host, argv, r.exitCode, r.stderr, 'lock');
  const [first, ...old] = r.stdout.split('\n');
  return first === 'taken-over' ? { takenOverFrom: withoutToken(old.join('\n')) } : {};
}

/** Takes the lock (a stale one, or one left by an earlier delivery of `jobId`, taken over) or throws `LockHeld` naming its owner. */
export async function lockHost(
  session: SshSession,
  stateDir: string,
  owner: string,
  staleAfterMs: number,
  timeoutMs?: number,
  jobId?: string,
): Promise<LockResult> {
  const argv = acquireLock(stateDir, owner, staleAfterMs, jobId);
  return lockResult(
    session.host.name,
    argv,
    await session.exec(argv, { step: 'lock', ...(timeoutMs ? { timeoutMs } : {}) }),
  );
}

/** Releases the lock if it is still ours (a lock taken over by someone else is left alone). */
export async function unlockHost(session: SshSession, stateDir: string, token: string): Promise<void> {
  await session.run(releaseLock(stateDir, token), { step: 'unlock', timeoutMs: 15_000 });
}

export interface BrokenLock {
  /** `unlocked`: it was this environment's and is gone; `none`: no lock; `other`: another environment's, left alone. */
  state: 'unlocked' | 'none' | 'other';
  /** The owner file (token line dropped), when there was a lock. */
  owner?: string;
}

/** Breaks the host's lock when it was taken for `app`/`environment` (a deploy that died); see state-commands.ts. */
export async function breakHostLock(
  session: SshSession,
  stateDir: string,
  app: string,
  environment: string,
): Promise<BrokenLock> {
  const { stdout } = await session.run(breakLock(stateDir, app, environment), { step: 'unlock', timeoutMs: 15_000 });
  const [first, ...owner] = stdout.split('\n');
  const state = first === 'unlocked' || first === 'other' ? first : 'none';
  return state === 'none' ? { state } : { state, owner: withoutToken(owner.join('\n')) };
}

/**
 * The envelope both a host's deploy and its rollback run in: connect → lock → inspect what runs →
 * `body` → unlock (always, even after a failure or the host's deadline).
 */
import type { SshSession } from '../ssh/types.js';
import type { HostContext } from './deploy-host.js';
import type { HostTarget } from './host-commands.js';
import { lockHost, unlockHost } from './host-lock.js';
import { readRunningOn } from './read-running.js';
import type { StepFailed, StepRunner } from './host-steps.js';
import type { RunningImage } from './types.js';

export async function withLockedHost<T>(
  ctx: HostContext,
  target: Pick<HostTarget, 'app' | 'environment'>,
  run: StepRunner,
  body: (session: SshSession, running: RunningImage | undefined) => Promise<T>,
  onUnlockError: (err: StepFailed) => void = () => {},
): Promise<T> {
  let session: SshSession | undefined;
  let locked = false;
  try {
    session = await run.step('connect', () => ctx.fleet.session(ctx.host));
    const s = session;
    const lock = await run.step('lock', (t) => lockHost(s, ctx.stateDir, ctx.lockOwner, ctx.lockStaleAfterMs, t, ctx.jobId));
    if (lock.takenOverFrom !== undefined) run.emit({ type: 'lock-taken-over', host: ctx.host, from: lock.takenOverFrom.replace(/\n/g, ', ') });
    locked = true;
    const running = await run.step('inspect', (t) => readRunningOn(s, { app: target.app, environment: target.environment, env: ctx.env, stateDir: ctx.stateDir }, { timeoutMs: t }));
    return await body(s, running);
  } finally {
    if (locked && session) {
      const s = session;
      await run.step('unlock', () => unlockHost(s, ctx.stateDir, ctx.token), { cleanup: true }).catch(onUnlockError);
    }
  }
}

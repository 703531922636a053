/**
 * The envelope both a host's deploy and its rollback run in: connect → lock → inspect what runs →
 * `body` → unlock (always, even after a failure or the host's deadline). Lock, inspect and the caller's
 * own reads (`reads`: the before-record) are one phase, one SSH round trip (phase-script.ts); each is
 * still its own step with its own error, and nothing after a lock not taken runs.
 */
import type { SshSession } from '../ssh/types.js';
import type { HostContext } from './host-context.js';
import type { HostTarget } from './host-command-types.js';
import { lockResult, unlockHost, type LockResult } from './host-lock.js';
import type { PhaseCmd, PhaseResult } from './phase-script.js';
import { runningCommand, runningResult } from './read-running.js';
import type { StepFailed, StepRunner } from './host-steps.js';
import { acquireLock } from './state-commands.js';
import type { RunningImage } from './types.js';

export async function withLockedHost<T>(
  ctx: HostContext,
  target: Pick<HostTarget, 'app' | 'environment'>,
  run: StepRunner,
  body: (session: SshSession, running: RunningImage | undefined, reads: PhaseResult[]) => Promise<T>,
  onUnlockError: (err: StepFailed) => void = () => {},
  reads: readonly PhaseCmd[] = [],
): Promise<T> {
  let session: SshSession | undefined;
  let locked = false;
  try {
    session = await run.step('connect', () => ctx.fleet.session(ctx.host));
    const s = session;
    let running: RunningImage | undefined;
    const taken = (lock: LockResult) => {
      locked = true;
      if (lock.takenOverFrom !== undefined)
        run.emit({ type: 'lock-taken-over', host: ctx.host, from: lock.takenOverFrom.replace(/\n/g, ', ') });
    };
    const lockArgv = acquireLock(ctx.stateDir, ctx.lockOwner, ctx.lockStaleAfterMs, ctx.jobId);
    const inspectArgv = runningCommand({
      app: target.app,
      environment: target.environment,
      env: ctx.env,
      stateDir: ctx.stateDir,
    });
    const results = await run.phase(s, [
      { step: 'lock', argv: lockArgv, check: (r) => taken(lockResult(ctx.host, lockArgv, r)) },
      {
        step: 'inspect',
        argv: inspectArgv,
        go: true,
        check: (r) => {
          running = runningResult(ctx.host, inspectArgv, r, ctx.env.rollout.strategy);
        },
      },
      ...reads,
    ]);
    return await body(s, running, results.slice(2));
  } finally {
    if (locked && session) {
      const s = session;
      await run.step('unlock', () => unlockHost(s, ctx.stateDir, ctx.token), { cleanup: true }).catch(onUnlockError);
    }
  }
}

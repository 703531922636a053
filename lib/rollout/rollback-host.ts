/**
 * Puts one host back on the image it ran before the rollout: the same commands with the previous
 * `image:tag` (under the lock again, health-checked), or, when nothing ran before, the new container
 * removed.
 */
import { checkHealth } from './check-health.js';
import { deployCommands, removeCommands, splitRef, type HostTarget } from './host-commands.js';
import { lockHost, unlockHost } from './host-lock.js';
import { readRunningOn } from './read-running.js';
import { StepFailed, type StepRunner } from './host-steps.js';
import type { HostContext } from './deploy-host.js';
import type { RunningImage } from './types.js';
import type { SshSession } from '../ssh/types.js';

/** Resolves when the host is back; throws StepFailed naming the rollback step that failed. */
export async function rollbackHost(ctx: HostContext, target: HostTarget, previous: RunningImage | undefined, run: StepRunner): Promise<void> {
  let session: SshSession | undefined;
  let locked = false;
  try {
    session = await run.step('connect', () => ctx.fleet.session(ctx.host));
    const s = session;
    await run.step('lock', (t) => lockHost(s, ctx.stateDir, ctx.lockOwner, ctx.lockStaleAfterMs, t));
    locked = true;
    const current = await run.step('inspect', (t) => readRunningOn(s, { app: target.app, environment: target.environment, env: ctx.env, stateDir: ctx.stateDir }, { timeoutMs: t }));
    if (!previous) {
      const remove = removeCommands(target, current);
      if (!remove) throw new StepFailed('remove', new Error(`host ${ctx.host}: no previous version recorded for the command strategy; nothing to roll back to`));
      for (const cmd of remove) await run.command(s, cmd);
      return;
    }
    const { image, tag } = splitRef(previous.ref) ?? { image: previous.ref, tag: 'latest' };
    const back: HostTarget = { ...target, image, tag };
    const commands = deployCommands(back, current);
    for (const cmd of commands.before) await run.command(s, cmd);
    const hc = ctx.env.rollout.healthCheck;
    if (hc) await run.step('health', () => checkHealth(s, hc, run.deadline));
    for (const cmd of commands.after) await run.command(s, cmd);
  } finally {
    if (locked && session) {
      const s = session;
      await run.step('unlock', () => unlockHost(s, ctx.stateDir, ctx.token), { cleanup: true }).catch(() => undefined);
    }
  }
}

/**
 * Puts one host back on the image it ran before the rollout: the same commands with the previous
 * `image:tag` (under the lock again, health-checked), or, when nothing ran before, the new container
 * removed.
 */
import { deployCommands, removeCommands, splitRef, type HostTarget } from './host-commands.js';
import { StepFailed, type StepRunner } from './host-steps.js';
import { healthStep, type HostContext } from './deploy-host.js';
import type { RunningImage } from './types.js';
import { withLockedHost } from './with-locked-host.js';

/** Resolves when the host is back; throws StepFailed naming the rollback step that failed. */
export async function rollbackHost(ctx: HostContext, target: HostTarget, previous: RunningImage | undefined, run: StepRunner): Promise<void> {
  await withLockedHost(ctx, target, run, async (s, current) => {
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
    await healthStep(run, s, ctx.env);
    for (const cmd of commands.after) await run.command(s, cmd);
  });
}

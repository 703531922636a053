/**
 * Puts one host back on the image it ran before the rollout: the same commands with the previous
 * `image:tag` (under the lock again, health-checked), or, when nothing ran before, the new container
 * removed. With `FROM_RECORD` (a host this delivery never reached), only a host that an earlier, dead
 * delivery of the same job changed is put back, to what it ran before that delivery (`recordBefore`).
 */
import { deployCommands, removeCommands, splitRef } from './host-commands.js';
import type { HostTarget } from './host-command-types.js';
import { StepFailed, type StepRunner } from './host-steps.js';
import { afterPhases, splitAfter } from './deploy-host.js';
import type { HostContext } from './host-context.js';
import { verifyStarted } from './verify-started.js';
import { probeAt } from './proxy/probe-at.js';
import { keptRollbackCommands } from './proxy/proxy-commands.js';
import { parseBefore, readBefore, recordDeployed } from './state-commands.js';
import type { RunningImage } from './types.js';
import { withLockedHost } from './with-locked-host.js';
import { restoreFiles } from './apply-files.js';
import type { DesiredFile } from '../files/desired-files.js';

export const FROM_RECORD = Symbol('from the before-record of this job');

/**
 * Resolves with the image put back (undefined: the app removed, nothing ran before), or `false` when
 * `FROM_RECORD` found no record of this job; throws StepFailed naming the step that failed.
 */
export async function rollbackHost(
  ctx: HostContext,
  target: HostTarget,
  previous: RunningImage | undefined | typeof FROM_RECORD,
  run: StepRunner,
  /** Called when `FROM_RECORD` found this job's record: from then on the host is known as changed. */
  found: () => void = () => {},
  /** Managed files the rollout swapped here, and whether the container was left as it ran. */
  files: { changed?: readonly DesiredFile[]; containerKept?: boolean } = {},
): Promise<string | undefined | false> {
  const reads =
    previous === FROM_RECORD
      ? [{ step: 'inspect' as const, argv: readBefore(ctx.stateDir, target.app, target.environment) }]
      : [];
  return await withLockedHost(
    ctx,
    target,
    run,
    async (s, current, [before]) => {
      if (files.changed?.length) await restoreFiles(run, s, files.changed);
      if (files.containerKept && previous !== FROM_RECORD) return previous?.ref;
      let back = previous;
      if (back === FROM_RECORD) {
        const recorded = parseBefore(before!.stdout, target.jobId);
        if (recorded === undefined) return false;
        found();
        back = recorded ? { ref: recorded, state: 'recorded', labels: {} } : undefined;
      }
      if (!back) {
        const remove = removeCommands(target, current);
        if (!remove)
          throw new StepFailed(
            'remove',
            new Error(
              `host ${ctx.host}: no previous version recorded for the command strategy; nothing to roll back to`,
            ),
          );
        await run.phase(s, remove);
        return undefined;
      }
      // Behind a proxy, an old container that still runs the previous image only gets the traffic back.
      const kept = keptRollbackCommands(target, current, back.ref, {
        step: 'record',
        argv: recordDeployed(ctx.stateDir, target.app, target.environment, back.ref),
      });
      if (kept) {
        await afterPhases(run, s, target, kept);
        return back.ref;
      }
      const { image, tag } = splitRef(back.ref) ?? { image: back.ref, tag: 'latest' };
      // The previous image is normally still on the host; pulled again in case it was pruned.
      const commands = deployCommands({ ...target, image, tag, pulled: false }, current);
      await run.phase(s, commands.before);
      const [now, later] = splitAfter(target, commands.after);
      await verifyStarted(run, s, await probeAt(run, s, ctx.env, commands.probes), commands.started, { next: now });
      await run.phase(s, later);
      return back.ref;
    },
    undefined,
    reads,
  );
}

/**
 * Behind a proxy the HTTP health check probes the container directly, on the slot address the engine
 * reports for it (`docker port`), not through the proxy and not on `healthCheck.port`.
 */
import type { RolloutConfig } from '../../config/schema.js';
import type { SshSession } from '../../ssh/types.js';
import type { HostCommands } from '../host-command-types.js';
import { StepFailed, type StepRunner } from '../host-steps.js';
import type { RunningImage } from '../types.js';
import { parseSlotAddress, slotAddress } from './slot-address.js';

type Probes = HostCommands['probes'];

/** What to probe for the container that runs now (the no-op check of a host already at the tag). */
export const runningProbes = (rollout: RolloutConfig, running: RunningImage | undefined): Probes =>
  rollout.proxy && running?.container
    ? { container: running.container, containerPort: rollout.proxy.containerPort }
    : undefined;

/** `env` with its HTTP health check aimed at `probes`' slot address; unchanged without a proxy or for a command check. */
export async function probeAt<E extends { rollout: RolloutConfig }>(
  run: StepRunner,
  session: SshSession,
  env: E,
  probes: Probes,
): Promise<E> {
  const hc = env.rollout.healthCheck;
  if (!probes || !hc || 'command' in hc) return env;
  const r = await run
    .command(session, { step: 'health', argv: slotAddress(probes.container, probes.containerPort) })
    .catch((err: unknown) => {
      // No published port: the container is not running (it exited, or never started).
      throw err instanceof StepFailed ? new StepFailed('start', err.error) : err;
    });
  const at = parseSlotAddress(r.stdout);
  if (!at)
    throw new StepFailed(
      'start',
      new Error(
        `host ${session.host.name}: container ${probes.container}: no slot address in ${JSON.stringify(r.stdout.trim())}`,
      ),
    );
  return { ...env, rollout: { ...env.rollout, healthCheck: { ...hc, ...at } } };
}

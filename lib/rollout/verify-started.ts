/**
 * What makes a new container count as healthy: its health check passes when one is configured, and at
 * least `container.settle` after `docker run -d` returned it is still running (not restarting, restart
 * count 0). The settle window runs during the health check, so it costs time only when the check passes
 * sooner (or there is none); checking after the health check means a crash loop that happens to answer a
 * probe between restarts does not pass, and checking after each failing probe ends a crash loop's health
 * check early. A crash loop or exit fails the host at `start`; the probes land in `transcript` for the
 * failure report. Both checks run on the host as one phase (health-loop.ts) together with `next`, the
 * commands that follow a container that passed (the switch): one SSH round trip, not one per probe.
 */
import type { EnvironmentConfig } from '../config/schema.js';
import type { SshSession } from '../ssh/types.js';
import { ContainerNotRunning } from './errors.js';
import { healthLoopCommand, settleCommand } from './health-loop.js';
import { StepFailed, type StepRunner } from './host-steps.js';
import type { PhaseCmd, PhaseResult } from './phase-script.js';
import type { HealthProbeRecord } from './types.js';

/**
 * `container` is the one `before` started (`HostCommands.started`); without one only the health check runs.
 * Resolves with the results of `next`, which run only once the container passed.
 */
export async function verifyStarted(
  run: StepRunner,
  session: SshSession,
  env: EnvironmentConfig,
  container: string | undefined,
  {
    transcript = [],
    next = [],
  }: { transcript?: HealthProbeRecord[]; signal?: AbortSignal; next?: readonly PhaseCmd[] } = {},
): Promise<PhaseResult[]> {
  const started = Date.now();
  const host = session.host.name;
  const hc = env.rollout.healthCheck;
  const settleMs = env.rollout.container.settle;
  const checks: PhaseCmd[] = [];
  if (hc)
    checks.push(
      healthLoopCommand(hc, { host, leftMs: Math.min(hc.timeout, run.deadline - started), container, transcript }),
    );
  if (container) {
    const when = hc ? `after its health check passed (${settleMs} ms settle window)` : `${settleMs} ms after start`;
    checks.push(settleCommand(host, container, { settleMs, passedMs: Date.now() - started, when }));
  }
  // A failing probe of a container that already exited or restarted fails at `start`, not at the health timeout.
  const results = await run.phase(session, [...checks, ...next]).catch((err: unknown) => {
    throw err instanceof StepFailed && err.error instanceof ContainerNotRunning
      ? new StepFailed('start', err.error)
      : err;
  });
  return results.slice(checks.length);
}

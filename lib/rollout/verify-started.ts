/**
 * What makes a new container count as healthy: its health check passes when one is configured, and at
 * least `container.settle` after `docker run -d` returned it is still running (not restarting, restart
 * count 0). The settle window runs during the health check, so it costs time only when the check passes
 * sooner (or there is none); checking after the health check means a crash loop that happens to answer a
 * probe between restarts does not pass, and checking after each failing probe ends a crash loop's health
 * check early. A crash loop or exit fails the host at `start`; the probes land in
 * `transcript` for the failure report.
 */
import type { EnvironmentConfig } from '../config/schema.js';
import type { SshSession } from '../ssh/types.js';
import { checkHealth } from './check-health.js';
import { checkStarted } from './check-started.js';
import { ContainerNotRunning } from './errors.js';
import { StepFailed, type StepRunner } from './host-steps.js';
import type { HealthProbeRecord } from './types.js';

/** `container` is the one `before` started (`HostCommands.started`); without one only the health check runs. */
export async function verifyStarted(
  run: StepRunner,
  session: SshSession,
  env: EnvironmentConfig,
  container: string | undefined,
  { transcript = [], signal }: { transcript?: HealthProbeRecord[]; signal?: AbortSignal } = {},
): Promise<void> {
  const started = Date.now();
  const hc = env.rollout.healthCheck;
  const settleMs = env.rollout.container.settle;
  // A failing probe of a container that already exited or restarted will not start passing: fail at
  // `start` now instead of waiting out the health check's timeout.
  const stillStarted = container
    ? () => checkStarted(session, container, { settleMs: 0, timeoutMs: 10_000, when: 'during its health check' })
    : undefined;
  if (hc) {
    await run
      .step('health', () => checkHealth(session, hc, run.deadline, signal, transcript, stillStarted))
      .catch((err: unknown) => {
        throw err instanceof StepFailed && err.error instanceof ContainerNotRunning
          ? new StepFailed('start', err.error)
          : err;
      });
  }
  if (!container) return;
  const waitMs = Math.max(0, settleMs - (Date.now() - started));
  const when = hc ? `after its health check passed (${settleMs} ms settle window)` : `${settleMs} ms after start`;
  await run.step('start', (timeoutMs) =>
    checkStarted(session, container, { settleMs: waitMs, timeoutMs, when, ...(signal ? { signal } : {}) }),
  );
}

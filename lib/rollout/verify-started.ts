/**
 * What makes a new container count as healthy: running (not restarting, restart count 0) after the
 * settle window (`container.settle`), then its health check when one is configured, then still running.
 * A crash loop or exit fails the host at `start`; the probes land in `transcript` for the failure report.
 */
import type { EnvironmentConfig } from '../config/schema.js';
import type { SshSession } from '../ssh/types.js';
import { checkHealth } from './check-health.js';
import { checkStarted } from './check-started.js';
import type { StepRunner } from './host-steps.js';
import type { HealthProbeRecord } from './types.js';

/** `container` is the one `before` started (`HostCommands.started`); without one only the health check runs. */
export async function verifyStarted(run: StepRunner, session: SshSession, env: EnvironmentConfig, container: string | undefined, { transcript = [], signal }: { transcript?: HealthProbeRecord[]; signal?: AbortSignal } = {}): Promise<void> {
  const settleMs = env.rollout.container.settle;
  if (container) await run.step('start', (timeoutMs) => checkStarted(session, container, { settleMs, timeoutMs, when: `${settleMs} ms after start`, ...(signal ? { signal } : {}) }));
  const hc = env.rollout.healthCheck;
  if (!hc) return;
  await run.step('health', () => checkHealth(session, hc, run.deadline, signal, transcript));
  if (container) await run.step('start', (timeoutMs) => checkStarted(session, container, { settleMs: 0, timeoutMs, when: 'after its health check passed' }));
}

/**
 * The new container's settle check: after `settleMs` it must be `running`, not restarting, never
 * restarted (`notStarted`). Run once after `docker run -d` and again after the health check, so a crash
 * loop that happens to answer one probe between restarts does not pass.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailed } from '../ssh/errors.js';
import type { SshSession } from '../ssh/types.js';
import { notStarted, parseContainerState } from './container-state.js';
import { dockerInspectState } from './docker-commands.js';
import { ContainerNotRunning } from './errors.js';

/** Resolves when `container` counts as started; throws ContainerNotRunning (or CommandFailed when the inspect fails). */
export async function checkStarted(
  session: SshSession,
  container: string,
  { settleMs, timeoutMs, when, signal }: { settleMs: number; timeoutMs: number; when: string; signal?: AbortSignal },
): Promise<void> {
  if (settleMs > 0)
    await sleep(Math.min(settleMs, Math.max(0, timeoutMs - 1000)), undefined, signal ? { signal } : undefined).catch(
      () => undefined,
    );
  const argv = dockerInspectState(container);
  const r = await session.exec(argv, { step: 'start', timeoutMs: Math.max(1000, timeoutMs - settleMs) });
  if (r.exitCode !== 0) throw new CommandFailed(session.host.name, argv, r.exitCode, r.stderr, 'start');
  const state = parseContainerState(r.stdout);
  const reason = notStarted(state);
  if (reason) throw new ContainerNotRunning(session.host.name, container, state, reason, when);
}

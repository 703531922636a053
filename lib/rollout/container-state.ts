/**
 * A container's state as `docker inspect` reports it (`dockerInspectState`), and the rule for a new
 * container having started: `running`, not restarting, never restarted. On a real engine a crash loop
 * under `--restart unless-stopped` reads `Running=true` between restarts; Status and RestartCount tell.
 */
import type { ContainerState } from './types.js';

/** Parses `dockerInspectState` output; fields a stand-in or an older engine lacks read as false/0/''. */
export function parseContainerState(stdout: string): ContainerState {
  const line = stdout.trim().split('\n')[0] ?? '';
  const raw = JSON.parse(line) as { state?: Record<string, unknown> | null; restartCount?: unknown };
  const s = raw.state ?? {};
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    status: text(s.Status),
    running: s.Running === true,
    restarting: s.Restarting === true,
    exitCode: typeof s.ExitCode === 'number' ? s.ExitCode : 0,
    oomKilled: s.OOMKilled === true,
    restartCount: typeof raw.restartCount === 'number' ? raw.restartCount : 0,
    error: text(s.Error),
    ...(text(s.StartedAt) ? { startedAt: text(s.StartedAt) } : {}),
    ...(text(s.FinishedAt) && !text(s.FinishedAt).startsWith('0001-') ? { finishedAt: text(s.FinishedAt) } : {}),
  };
}

/** Why the container does not count as started (undefined: it does), in words for the error summary. */
export function notStarted(s: ContainerState): string | undefined {
  if (s.status === 'running' && s.running && !s.restarting && s.restartCount === 0) return undefined;
  const what =
    s.restarting || s.status === 'restarting'
      ? 'restarting (crash loop)'
      : s.status === 'running'
        ? 'running, but restarted'
        : s.status || 'unknown';
  const facts = [
    `exit code ${s.exitCode}`,
    `restarts ${s.restartCount}`,
    ...(s.oomKilled ? ['OOM-killed'] : []),
    ...(s.error ? [`error: ${s.error}`] : []),
  ];
  return `${what} (${facts.join(', ')})`;
}

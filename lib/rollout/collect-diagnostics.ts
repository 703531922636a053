/**
 * The failure report of a new container (kamal #842, #743: "no logs when the container fails its health
 * check"): its last 50 log lines, its state and the health-probe transcript, read BEFORE the rollback
 * removes it, and redacted against every known secret and every `container.env` value.
 */
import { scrub } from '../secret.js';
import type { SshSession } from '../ssh/types.js';
import { parseContainerState } from './container-state.js';
import { dockerInspectState, dockerLogs } from './docker-commands.js';
import type { ContainerState, FailureDiagnostics, HealthProbeRecord } from './types.js';

export const LOG_LINES = 50;
/** Probes kept in the report (the last ones: they say how it ended). */
export const PROBES_KEPT = 20;
const READ_MS = 10_000;

/** Reads what `container` logged and its state; never throws (a part that cannot be read is left empty). */
export async function collectDiagnostics(
  session: SshSession,
  container: string,
  transcript: readonly HealthProbeRecord[],
  redact: readonly string[],
): Promise<FailureDiagnostics> {
  const clean = (text: string) => scrub(text, redact);
  const logs = await session.exec(dockerLogs(container, LOG_LINES), { step: 'start', timeoutMs: READ_MS }).then(
    (r) => (r.exitCode === 0 ? r.stdout : ''),
    () => '',
  );
  const state = await session
    .exec(dockerInspectState(container), { step: 'start', timeoutMs: READ_MS })
    .then((r): ContainerState | undefined => (r.exitCode === 0 ? parseContainerState(r.stdout) : undefined))
    .catch(() => undefined);
  return {
    container,
    logs: clean(logs.trimEnd()),
    ...(state ? { state: { ...state, error: clean(state.error) } } : {}),
    probes: transcript.slice(-PROBES_KEPT).map((p) => ({
      ...p,
      target: clean(p.target),
      body: clean(p.body),
      ...(p.error ? { error: clean(p.error) } : {}),
    })),
    probeCount: transcript.length,
  };
}

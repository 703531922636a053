/**
 * Health check probes, run FROM the host (so they reach a container port published on its loopback):
 * one attempt per command; `check-health.ts` retries them at `interval` until `timeout`.
 */
import type { RolloutConfig } from '../config/schema.js';

export type HealthCheck = NonNullable<RolloutConfig['healthCheck']>;

/** Bytes of a probe's body kept for the failure report. */
export const BODY_BYTES = 200;

/** The URL probed: the host's own loopback, or `host` (behind a proxy: the new container's slot address). */
export function healthUrl(hc: { port?: number | undefined; path: string; host?: string }): string {
  // The schema requires `port` without a proxy, and behind one `probeAt` sets it to the slot's port.
  if (hc.port === undefined)
    throw new Error(`healthCheck.port is not set and no slot address was found for ${hc.path}`);
  return `http://${hc.host ?? '127.0.0.1'}:${hc.port}${hc.path}`;
}

/** How long one attempt may take: the interval, but at least 2 s (a cold start's first answer can be slow). */
export const attemptBudgetMs = (hc: HealthCheck): number => Math.max(hc.interval, 2000);

// The body's first bytes on stdout (the rest drained on the host, so a large page never crosses SSH and
// curl never sees a broken pipe); the status code and curl's exit code on stderr after curl's own error
// line. No `-f`: a 500's body is what says why (`%{stderr}` needs curl ≥ 7.63).
const HTTP_PROBE = `{ curl -sS --max-time "$1" -w '%{stderr}\\nfjord-probe %{http_code}' "$2"; echo " $?" >&2; } | { head -c ${BODY_BYTES}; cat >/dev/null; }`;

/** One attempt. HTTP: a curl GET with `--max-time`, which keeps one attempt within the interval. */
export function healthProbe(hc: HealthCheck, attemptTimeoutMs = attemptBudgetMs(hc)): string[] {
  if ('command' in hc) return [...hc.command];
  const seconds = String(Math.max(1, Math.ceil(attemptTimeoutMs / 1000)));
  return ['sh', '-c', HTTP_PROBE, 'fjord-probe', seconds, healthUrl(hc)];
}

export interface ProbeResult {
  /** HTTP status (0: no answer); undefined for a command check. */
  status?: number;
  /** curl's exit code (HTTP), or the command's. */
  exitCode: number;
  body: string;
  /** curl's own error line, when it printed one. */
  error?: string;
}

/** Reads one attempt's output (see `healthProbe`). */
export function parseProbe(hc: HealthCheck, r: { exitCode: number; stdout: string; stderr: string }): ProbeResult {
  if ('command' in hc) return { exitCode: r.exitCode, body: (r.stdout + r.stderr).slice(0, BODY_BYTES) };
  const m = /(?:^|\n)fjord-probe (\d{3}) (\d+)\s*$/.exec(r.stderr);
  const error = (m ? r.stderr.slice(0, m.index) : r.stderr).trim().split('\n').pop()?.trim();
  return {
    status: m ? Number(m[1]) : 0,
    exitCode: m ? Number(m[2]) : r.exitCode || 1,
    body: r.stdout.slice(0, BODY_BYTES),
    ...(error ? { error } : {}),
  };
}

/** Did this attempt pass? Command: exit 0. HTTP: curl exit 0 and a configured status (default 2xx). */
export function healthPassed(hc: HealthCheck, p: ProbeResult): boolean {
  if (p.exitCode !== 0) return false;
  if ('command' in hc) return true;
  const code = p.status ?? 0;
  return hc.status ? hc.status.includes(code) : code >= 200 && code < 300;
}

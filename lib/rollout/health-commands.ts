/**
 * Health check probes, run FROM the host (so they reach a container port published on its loopback):
 * one attempt per command; `check-health.ts` retries them at `interval` until `timeout`.
 */
import type { RolloutConfig } from '../config/schema.js';

export type HealthCheck = NonNullable<RolloutConfig['healthCheck']>;

/** The URL probed: always the host's own loopback. */
export const healthUrl = (hc: { port: number; path: string }): string => `http://127.0.0.1:${hc.port}${hc.path}`;

/** How long one attempt may take: the interval, but at least 2 s (a cold start's first answer can be slow). */
export const attemptBudgetMs = (hc: HealthCheck): number => Math.max(hc.interval, 2000);

/**
 * One attempt. HTTP: curl prints the status code; `-f` (fail on ≥ 400) only when no explicit status list
 * is configured, since a list may expect e.g. 401. `--max-time` keeps one attempt within the interval.
 */
export function healthProbe(hc: HealthCheck, attemptTimeoutMs = attemptBudgetMs(hc)): string[] {
  if ('command' in hc) return [...hc.command];
  const seconds = String(Math.max(1, Math.ceil(attemptTimeoutMs / 1000)));
  return ['curl', hc.status ? '-sS' : '-fsS', '--max-time', seconds, '-o', '/dev/null', '-w', '%{http_code}', healthUrl(hc)];
}

/** Did this attempt pass? Command: exit 0. HTTP: exit 0 and a configured status (default 2xx). */
export function healthPassed(hc: HealthCheck, result: { exitCode: number; stdout: string }): boolean {
  if (result.exitCode !== 0) return false;
  if ('command' in hc) return true;
  const code = Number(result.stdout.trim());
  return hc.status ? hc.status.includes(code) : code >= 200 && code < 300;
}

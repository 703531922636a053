/**
 * Runs a health check on the host: one probe per `interval` until `successes` (default 1) pass in a row, or
 * `timeout` passes. A probe that fails resets the count, so an app that flaps never counts as healthy.
 * Every probe is recorded in `transcript` (URL, status, body excerpt, time) for the failure report.
 * `afterFailedProbe` runs after each failing probe and may throw to stop early (the container died).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SshSession } from '../ssh/types.js';
import { tail } from '../ssh/errors.js';
import { HealthCheckFailed } from './errors.js';
import {
  attemptBudgetMs,
  healthPassed,
  healthProbe,
  healthUrl,
  parseProbe,
  type HealthCheck,
  type ProbeResult,
} from './health-commands.js';
import type { HealthProbeRecord } from './types.js';

/** Resolves once healthy; throws HealthCheckFailed at the deadline (or earlier when `deadline` is sooner). */
export async function checkHealth(
  session: SshSession,
  hc: HealthCheck,
  deadline = Infinity,
  signal?: AbortSignal,
  transcript: HealthProbeRecord[] = [],
  afterFailedProbe?: () => Promise<void>,
): Promise<void> {
  const started = Date.now();
  const end = Math.min(started + hc.timeout, deadline);
  const needed = hc.successes ?? 1;
  const target = 'command' in hc ? hc.command.join(' ') : healthUrl(hc);
  let last = 'none ran';
  let stderr = '';
  let streak = 0;
  let passes = 0;
  for (;;) {
    const attemptStart = Date.now();
    const left = end - attemptStart;
    const attemptMs = Math.max(1000, Math.min(left, attemptBudgetMs(hc)));
    const r = await session.exec(healthProbe(hc, attemptMs), { step: 'health', timeoutMs: attemptMs + 2000 });
    const p = parseProbe(hc, r);
    transcript.push(probeRecord(target, p, attemptStart, Date.now() - attemptStart));
    if (healthPassed(hc, p)) {
      passes++;
      if (++streak >= needed) return;
    } else {
      streak = 0;
      ({ last, stderr } = failedAttempt(hc, p, r.stderr));
      await afterFailedProbe?.();
    }
    const wait = hc.interval - (Date.now() - attemptStart);
    if (Date.now() + Math.max(0, wait) >= end || signal?.aborted) break;
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : undefined).catch(() => undefined);
  }
  throw new HealthCheckFailed(
    session.host.name,
    Date.now() - started,
    last + flappingNote(passes, needed),
    tail(stderr),
  );
}

/** One probe in the transcript; `atMs` is when it started (epoch ms). */
export function probeRecord(target: string, p: ProbeResult, atMs: number, ms: number): HealthProbeRecord {
  return {
    at: new Date(atMs).toISOString(),
    target,
    ...(p.status !== undefined ? { status: p.status } : {}),
    exitCode: p.exitCode,
    body: p.body,
    ...(p.error ? { error: p.error } : {}),
    ms: Math.round(ms),
  };
}

/** A failing attempt in words (`last`) and the stderr its error keeps. */
export function failedAttempt(hc: HealthCheck, p: ProbeResult, stderr: string): { last: string; stderr: string } {
  return 'command' in hc
    ? { last: `exit ${p.exitCode}`, stderr }
    : { last: `HTTP ${String(p.status).padStart(3, '0')}, curl exit ${p.exitCode}`, stderr: p.error ?? '' };
}

/** Said when some probes passed but never `needed` in a row (an app that flaps). */
export const flappingNote = (passes: number, needed: number): string =>
  passes > 0 && needed > 1 ? `; ${passes} probe(s) passed, never ${needed} in a row` : '';

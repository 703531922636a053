/**
 * When a set of freeze windows lets a deploy run: pure, on croner (IANA time zones, DST handled by it).
 * A window opens at a run of its `cron` and closes `duration` later, or at the next run of `until` after
 * it opened (GitLab's Ci::FreezePeriod: the freeze is active when the previous `freeze_start` is later
 * than the previous `freeze_end`). `deny` windows hold deploys while open; when `allow` windows exist,
 * deploys run only while one of them is open. `duration` is elapsed time: a window that spans a DST change
 * ends an hour earlier or later on the wall clock; use `until` for a wall-clock end.
 */
import { Cron } from 'croner';

export interface Window {
  /** Where it comes from and its name, for people: `fjord.yaml "xmas"`, `GitLab freeze period 3`. */
  label: string;
  kind: 'deny' | 'allow';
  cron: string;
  durationMs?: number;
  until?: string;
  timeZone: string;
}

export interface Blocked {
  /** The first time at or after `now` when the deploy may run. */
  until: Date;
  /** The window that held it last (its end, or the allow window's start, is `until`). */
  window: Window;
}

const cronOf = (pattern: string, timeZone: string) => new Cron(pattern, { timezone: timeZone, paused: true });

/** The open span of `w` that contains `t`, if any. */
export function openSpan(w: Window, t: Date): { start: Date; end: Date } | undefined {
  // Runs strictly before t+1 ms: a window opening exactly at t is open at t.
  const at = new Date(t.getTime() + 1);
  if (w.until !== undefined) {
    const lastStart = cronOf(w.cron, w.timeZone).previousRuns(1, at)[0];
    const lastEnd = cronOf(w.until, w.timeZone).previousRuns(1, at)[0];
    if (!lastStart || (lastEnd && lastEnd >= lastStart)) return undefined;
    const end = cronOf(w.until, w.timeZone).nextRun(t);
    return end ? { start: lastStart, end } : undefined;
  }
  const start = cronOf(w.cron, w.timeZone).previousRuns(1, at)[0];
  if (!start) return undefined;
  const end = new Date(start.getTime() + (w.durationMs ?? 0));
  return end > t ? { start, end } : undefined;
}

/** When `windows` let a deploy run, from `now`: undefined when it may run now. */
export function blockedUntil(windows: readonly Window[], now: Date, { maxSteps = 100 } = {}): Blocked | undefined {
  const deny = windows.filter((w) => w.kind === 'deny');
  const allow = windows.filter((w) => w.kind === 'allow');
  let t = now;
  let held: Window | undefined;
  // Each step moves past one closed allow gap or one open deny window; windows that touch chain on.
  for (let step = 0; step < maxSteps; step++) {
    const open = deny.map((w) => ({ w, span: openSpan(w, t) })).filter((o) => o.span);
    if (open.length) {
      const last = open.reduce((a, b) => (b.span!.end > a.span!.end ? b : a));
      t = last.span!.end;
      held = last.w;
      continue;
    }
    if (allow.length && !allow.some((w) => openSpan(w, t))) {
      const next = allow.map((w) => ({ w, at: cronOf(w.cron, w.timeZone).nextRun(t) })).filter((n) => n.at);
      if (!next.length) throw new Error('no allow window ever opens again');
      const first = next.reduce((a, b) => (b.at! < a.at! ? b : a));
      t = first.at!;
      held = first.w;
      continue;
    }
    return held ? { until: t, window: held } : undefined;
  }
  throw new Error(`freeze windows never let a deploy through (checked ${maxSteps} windows ahead)`);
}

/** `2026-12-24 18:00 Europe/Berlin`: a time as people of that zone read it. */
export function formatInZone(t: Date, timeZone: string): string {
  // sv-SE formats as ISO-like `YYYY-MM-DD HH:mm`.
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(t);
  return `${text} ${timeZone}`;
}

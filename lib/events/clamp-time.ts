/**
 * Source times order deploys (lib/worker/superseded.ts), so one far in the future (`updated_at: 2099…`,
 * a skewed clock, a crafted body) would freeze an environment: every later event would look older.
 * A time beyond `nowMs` plus a clock-skew allowance is clamped to `nowMs` (issue 12, item 2).
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** `iso` as ISO 8601 UTC, or `nowMs` when it lies more than `skewMs` beyond it; undefined if unreadable. */
export function clampTime(iso: string, nowMs: number, skewMs = CLOCK_SKEW_MS): string | undefined {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return undefined;
  if (Number.isNaN(nowMs)) return new Date(ms).toISOString();
  return new Date(ms > nowMs + skewMs ? nowMs : ms).toISOString();
}

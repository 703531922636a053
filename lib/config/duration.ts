/** Durations in fjord.yaml: a number of milliseconds, or `500ms`, `30s`, `15m`, `1h`, `14d` (24 h days). */
import * as z from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 500ms, 30s, 15m, 1h)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

/** zod type accepting `30s` or a millisecond count, giving milliseconds. */
export const durationSchema = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(?:\.\d+)?(ms|s|m|h|d)$/, 'not a duration (e.g. 30s, 15m)'),
  ])
  .transform((v) => (typeof v === 'number' ? v : parseDuration(v)));

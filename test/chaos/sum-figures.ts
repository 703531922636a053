/**
 * Sums the figures every chaos file appended to `figures.jsonl` (test/chaos/figures.ts) into the one object
 * `npm run chaos` prints, with exactly the keys of issue 6, in its order; a figure no file reported is 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosFigures } from './figures.js';

export const FIGURE_KEYS = [
  'deliveries',
  'duplicates',
  'reordered',
  'lost',
  'doubleCommits',
  'finalTagWrong',
  'kills',
  'converged',
  'staleLocks',
  'faults',
  'faultsHandled',
  'hostile',
  'hostile5xx',
  'crashes',
  'jobsFromInvalid',
  'secretLeaks',
] as const satisfies ReadonlyArray<keyof ChaosFigures>;

export interface Summed {
  figures: ChaosFigures;
  /** Lines read, and keys or values that were not figures (reported, not added). */
  lines: number;
  problems: string[];
}

export function sumFigures(dir: string): Summed {
  const figures = Object.fromEntries(FIGURE_KEYS.map((k) => [k, 0])) as unknown as ChaosFigures;
  const problems: string[] = [];
  const file = join(dir, 'figures.jsonl');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  for (const [i, line] of lines.entries()) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problems.push(`figures.jsonl:${i + 1}: not JSON`);
      continue;
    }
    for (const [key, value] of Object.entries(entry)) {
      if (!(FIGURE_KEYS as readonly string[]).includes(key))
        problems.push(`figures.jsonl:${i + 1}: unknown figure ${JSON.stringify(key)}`);
      else if (typeof value !== 'number' || !Number.isFinite(value))
        problems.push(`figures.jsonl:${i + 1}: ${key} is not a number`);
      else figures[key as keyof ChaosFigures] += value;
    }
  }
  return { figures, lines: lines.length, problems };
}

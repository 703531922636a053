/**
 * How the chaos suite reports (issue 6). Each chaos test file adds its figures with `recordFigures` and
 * routes every log line and error message it sees through `captureText`. Under `npm run chaos` the runner
 * (test/chaos/run.ts) sets FJORD_CHAOS_DIR, then sums the figures of all files into the one JSON line and
 * scans everything captured (plus the suite's own stdout/stderr) for the secrets named with
 * `declareSecrets`. Under plain `npm test` nothing is set: each test still asserts its own invariants, and
 * these calls write to a throwaway directory.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The figures `npm run chaos` prints; every file adds to some of them. */
export interface ChaosFigures {
  deliveries: number;
  duplicates: number;
  reordered: number;
  lost: number;
  doubleCommits: number;
  finalTagWrong: number;
  kills: number;
  converged: number;
  staleLocks: number;
  faults: number;
  faultsHandled: number;
  hostile: number;
  hostile5xx: number;
  crashes: number;
  jobsFromInvalid: number;
  secretLeaks: number;
}

let dir: string | undefined;
function chaosDir(): string {
  if (!dir) {
    const own = process.env.FJORD_CHAOS_DIR === undefined;
    const made = process.env.FJORD_CHAOS_DIR ?? mkdtempSync(join(tmpdir(), 'fjord-chaos-'));
    mkdirSync(made, { recursive: true });
    // Plain `npm test`: nobody reads the figures, so the throwaway directory goes when the test process ends.
    if (own) process.on('exit', () => rmSync(made, { recursive: true, force: true }));
    dir = made;
  }
  return dir;
}

/** Adds `figures` to the suite's totals (summed across files by the runner). */
export function recordFigures(figures: Partial<ChaosFigures>): void {
  appendFileSync(join(chaosDir(), 'figures.jsonl'), JSON.stringify(figures) + '\n');
}

/** Keeps a log line or error message for the secret scan. */
export function captureText(text: string): void {
  appendFileSync(join(chaosDir(), 'captured.log'), text.endsWith('\n') ? text : text + '\n');
}

/** Names values that must never appear in anything captured: tokens, signing keys, private keys. */
export function declareSecrets(...values: string[]): void {
  const lines = values.filter((v) => v.length >= 8).map((v) => JSON.stringify(v));
  if (lines.length) appendFileSync(join(chaosDir(), 'secrets.jsonl'), lines.join('\n') + '\n');
}

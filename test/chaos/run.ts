/**
 * `npm run chaos` (issue 6): runs the chaos suite alone (test/chaos/*.test.ts through test/run.mjs) with a
 * fresh FJORD_CHAOS_DIR, its stdout and stderr passed through and kept; then sums the figures the files
 * recorded, scans everything captured plus that output for the declared secrets and private keys, and
 * prints as its last line one JSON object with the figures. Exit code 1 when a test failed or a secret
 * leaked. `npm run chaos -- storm` runs only test/chaos files whose name contains `storm`.
 * FJORD_CHAOS_KEEP=1 keeps the directory (it is kept anyway when the run fails).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLeaks, needlesOf, scanChaosDir } from './scan-secrets.js';
import { FIGURE_KEYS, sumFigures } from './sum-figures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const words = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const dir = mkdtempSync(join(tmpdir(), 'fjord-chaos-run-'));
const note = (line: string) => process.stderr.write(`chaos: ${line}\n`);

// A CI that skips the chaos files in `npm test` (FJORD_TEST_SKIP=chaos) must not skip them here.
const skip = (process.env.FJORD_TEST_SKIP ?? '').split(',').filter((w) => w && !w.includes('chaos'));
const child = spawn(
  process.execPath,
  [join(root, 'test/run.mjs'), ...(words.length ? words.map((w) => `test/chaos/${w}`) : ['test/chaos/'])],
  {
    cwd: root,
    // The chaos run's sizes (npm test runs smaller ones of the same mix): each can still be set from outside.
    env: {
      FJORD_STORM_DELIVERIES: '500',
      FJORD_STORM_EVENTS: '58',
      FJORD_CHAOS_CRASH_RUNS: '20',
      ...process.env,
      FJORD_CHAOS_DIR: dir,
      FJORD_TEST_SKIP: skip.join(','),
    },
    stdio: ['inherit', 'pipe', 'pipe'],
  },
);
const out: Buffer[] = [];
const err: Buffer[] = [];
child.stdout.on('data', (d: Buffer) => {
  out.push(d);
  process.stdout.write(d);
});
child.stderr.on('data', (d: Buffer) => {
  err.push(d);
  process.stderr.write(d);
});
const code: number = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 1 : 0))));

const { figures, lines, problems } = sumFigures(dir);
for (const p of problems) note(p);
const scan = scanChaosDir(dir, [
  { name: 'stdout', text: Buffer.concat(out).toString('utf8') },
  { name: 'stderr', text: Buffer.concat(err).toString('utf8') },
]);
// The scan must be able to fail: a canary planted in a copy of the real input is found, or the run fails.
const canary = `canary-${randomBytes(12).toString('hex')}`;
const scannerWorks = findLeaks({ name: 'canary', text: `x\n{"msg":"${canary}"}\n` }, needlesOf([canary])).length === 1;
for (const leak of scan.leaks) note(`SECRET LEAK: ${leak.label} in ${leak.where}`);
note(
  `${lines} figure line(s); scanned ${scan.bytes} bytes for ${scan.secrets} declared secret(s): ${scan.leaks.length} leak(s)`,
);
if (!scannerWorks) note('the secret scanner did not find its canary: the scan cannot be trusted');
const vacuous = words.length === 0 && (scan.secrets === 0 || lines === 0);
if (vacuous) note('no secrets declared or no figures recorded: the chaos files did not report');

figures.secretLeaks += scan.leaks.length;
const failed = code !== 0 || figures.secretLeaks > 0 || !scannerWorks || vacuous;
if (failed || process.env.FJORD_CHAOS_KEEP) note(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
// Exactly the keys of issue 6, in its order, as the very last line.
process.stdout.write(JSON.stringify(Object.fromEntries(FIGURE_KEYS.map((k) => [k, figures[k]]))) + '\n');
process.exitCode = failed ? 1 : 0;

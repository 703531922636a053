#!/usr/bin/env node
// `npm test`: every test/**/*.test.ts through node's test runner (tsx for TypeScript), two files at a time.
// `npm test -- queue receiver` runs only files whose path contains one of the words.
// FJORD_TEST_SKIP=chaos,bench skips files whose path contains one of those words.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'fixtures'
        ? []
        : walk(join(dir, e.name))
      : e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
const words = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const skip = (process.env.FJORD_TEST_SKIP ?? '').split(',').filter(Boolean);
const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => words.length === 0 || words.some((w) => f.includes(w)))
  .filter((f) => !skip.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// The runner's per-file and per-test timeout is a hang backstop only: the tests' own waits end on events and
// on deadlines measured from their own step times. Two CPU-bound processes beside `npm test` make the longest
// files (the crash and storm chaos suites: ≈ 5 and 3.5 minutes idle) take more than twice as long, so the
// backstop sits at 30 minutes; FJORD_TEST_TIMEOUT_MS overrides it.
const timeoutMs = Number(process.env.FJORD_TEST_TIMEOUT_MS ?? 30 * 60_000);
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.FJORD_TEST_CONCURRENCY ?? 2}`,
    `--test-timeout=${timeoutMs}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FJORD_LOG_LEVEL: process.env.FJORD_LOG_LEVEL ?? 'warn' } },
);
process.exit(result.status ?? 1);

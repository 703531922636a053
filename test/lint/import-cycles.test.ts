// Issue 15, item 5: "no import cycles (a test or lint rule that fails on one)". The rule is Biome's
// `suspicious/noImportCycles` in biome.json with `ignoreTypes: false` (an `import type` cycle counts);
// these tests run the real Biome binary: once on the tree, once on a cycle made for the purpose, so the
// first cannot pass because the rule is off or type imports are skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const biome = join(root, 'node_modules', '.bin', 'biome');

interface Diagnostic {
  category: string;
  location: { path: string; start: { line: number } };
}

/** `biome lint --only=suspicious/noImportCycles` over `paths` in `cwd`, its JSON report parsed. */
function importCycles(cwd: string, paths: string[]): Diagnostic[] {
  const r = spawnSync(
    biome,
    ['lint', '--only=suspicious/noImportCycles', '--reporter=json', '--max-diagnostics=none', ...paths],
    {
      cwd,
      encoding: 'utf8',
    },
  );
  assert.ok(r.stdout.trim().startsWith('{'), `biome printed no report (exit ${r.status}): ${r.stderr}`);
  const report = JSON.parse(r.stdout) as { diagnostics: Diagnostic[] };
  return report.diagnostics.filter((d) => d.category === 'lint/suspicious/noImportCycles');
}

describe('import cycles', () => {
  it('no module of the tree imports, even only a type, from a module that imports it back', () => {
    const cycles = importCycles(root, ['lib', 'functions', 'infra', 'test', 'bench']);
    assert.deepEqual(
      cycles.map((d) => `${d.location.path}:${d.location.start.line}`),
      [],
      'move the shared types down a level (STYLE.md principle 11)',
    );
  });

  it("the project's biome.json reports a cycle made only of type imports", () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-cycle-'));
    try {
      copyFileSync(join(root, 'biome.json'), join(dir, 'biome.json'));
      // biome.json reads git's ignore file (vcs.useIgnoreFile): the directory is a git repository, as the tree is.
      assert.equal(spawnSync('git', ['init', '-q', dir]).status, 0);
      writeFileSync(join(dir, '.gitignore'), '');
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport interface A { b?: B }\n");
      writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.js';\nexport interface B { a?: A }\n");
      const cycles = importCycles(dir, ['.']);
      assert.deepEqual(cycles.map((d) => d.location.path).sort(), ['a.ts', 'b.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

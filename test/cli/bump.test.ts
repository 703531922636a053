import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../lib/cli/main.js';
import { bumpTag, readTag } from '../../lib/manifest/index.js';
import { assertOnlyTagChanged } from '../manifest/diff.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test/fixtures/manifests');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory holding copies of every manifest fixture. */
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-bump-'));
  dirs.push(dir);
  for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(dir, f));
  return dir;
}

async function fjord(args: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: {},
    cwd,
  });
  return { code, stdout, stderr };
}

/** Every file of `dir` with its content, to prove an error wrote nothing (no temp file left either). */
const snapshot = (dir: string) =>
  Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

describe('fjord bump (in-process)', () => {
  it('prints the edited file to stdout and leaves the file alone', async () => {
    const dir = workdir();
    const before = snapshot(dir);
    const run = await fjord(['bump', 'compose.yaml', '--tag', '1.5.0', '--service', 'api'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, bumpTag(before['compose.yaml']!, { service: 'api' }, '1.5.0').text);
    assertOnlyTagChanged(before['compose.yaml']!, run.stdout, '1.4.2', '1.5.0');
    assert.equal(run.stderr, 'compose.yaml: services.api.image: 1.4.2 → 1.5.0\n');
    assert.deepEqual(snapshot(dir), before);
  });

  it('--in-place writes only the tag, keeps the file mode, leaves no temp file', async () => {
    const dir = workdir();
    const file = join(dir, 'helm-values.yaml');
    chmodSync(file, 0o640);
    const before = readFileSync(file, 'utf8');
    const run = await fjord(['bump', file, '--tag', '1.10', '--path', 'worker.image.tag', '--in-place'], '/');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '');
    assertOnlyTagChanged(before, readFileSync(file, 'utf8'), '1.9', '"1.10"');
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir).sort(), readdirSync(fixtures).sort());
    const again = await fjord(['bump', file, '--tag', '1.10', '--path', 'worker.image.tag', '-i'], '/');
    assert.equal(again.code, 0);
    assert.match(again.stderr, /worker\.image\.tag: already 1\.10/);
  });

  it('--in-place through a symlink edits the file it points at and keeps the link', async () => {
    const dir = workdir();
    symlinkSync('k8s-app.yaml', join(dir, 'current.yaml'));
    const run = await fjord(['bump', 'current.yaml', '--tag', 'v1.32.1', '--container', 'envoy', '--in-place'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readTag(readFileSync(join(dir, 'k8s-app.yaml'), 'utf8'), { container: 'envoy' }), 'v1.32.1');
    assert.ok(statSync(join(dir, 'current.yaml')).isFile() && readdirSync(dir).includes('current.yaml'));
    assert.equal(readFileSync(join(dir, 'current.yaml'), 'utf8'), readFileSync(join(dir, 'k8s-app.yaml'), 'utf8'));
  });

  it('exits 1 with a message and writes nothing for a missing or ambiguous target or a bad tag', async () => {
    const dir = workdir();
    const before = snapshot(dir);
    const cases: [string[], RegExp][] = [
      [['helm-values.yaml', '--tag', 'v2', '--path', 'image.tagg'], /^fjord: image\.tagg: not found in the manifest/],
      [['k8s-app.yaml', '--tag', 'v2', '--container', 'app'], /^fjord: container app: matches 2 places/],
      [
        ['compose.yaml', '--tag', 'v2', '--image', 'registry.example.com/acme/api'],
        /^fjord: image registry\.example\.com\/acme\/api: matches 2 places/,
      ],
      [
        ['kustomization.yaml', '--tag', '$(reboot)', '--image', 'acme/api'],
        /^fjord: "\$\(reboot\)" is not a valid image tag/,
      ],
      [['kustomization.yaml', '--tag', '1.0\nimages: []', '--image', 'acme/api'], /is not a valid image tag/],
      [['compose.yaml', '--tag', 'v2', '--container', 'api'], /^fjord: container api: applies to k8s manifests/],
      [['missing.yaml', '--tag', 'v2'], /^fjord: missing\.yaml: cannot read \(ENOENT\)/],
    ];
    for (const [args, message] of cases) {
      for (const extra of [[], ['--in-place']]) {
        const run = await fjord(['bump', ...args, ...extra], dir);
        assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
        assert.match(run.stderr, message);
        assert.equal(run.stdout, '');
        assert.deepEqual(snapshot(dir), before);
      }
    }
  });

  it('exits 2 with the usage for bad command lines', async () => {
    const dir = workdir();
    for (const args of [
      ['compose.yaml'],
      ['--tag', 'v1'],
      ['a.yaml', 'b.yaml', '--tag', 'v1'],
      ['compose.yaml', '--tag', 'v1', '--format', 'ansible'],
      ['compose.yaml', '--tag', 'v1', '--force'],
    ]) {
      const run = await fjord(['bump', ...args], dir);
      assert.equal(run.code, 2, args.join(' '));
      assert.match(run.stderr, /Usage: fjord bump <file> --tag <tag>/);
    }
  });
});

describe('fjord bump (real binary)', () => {
  const bin = (args: string[], cwd: string) =>
    spawnSync(process.execPath, [join(root, 'functions/fjord.mjs'), 'bump', ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, FJORD_FROM_SOURCE: '1' },
      timeout: 60_000,
    });

  it('prints, edits in place, and fails with exit 1 writing nothing', () => {
    const dir = workdir();
    const before = snapshot(dir);
    const printed = bin(['kustomization.yaml', '--tag', '1.5.0', '--image', 'acme/api'], dir);
    assert.equal(printed.status, 0, printed.stderr);
    assertOnlyTagChanged(before['kustomization.yaml']!, printed.stdout, '1.4.2', '1.5.0');
    assert.deepEqual(snapshot(dir), before);

    const failed = bin(['k8s-app.yaml', '--tag', '`id`', '--container', 'api/app', '--in-place'], dir);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /^fjord: "`id`" is not a valid image tag/);
    assert.deepEqual(snapshot(dir), before);

    writeFileSync(join(dir, 'values.yaml'), 'image:\n  repository: acme/api\n  tag: "1.0.0" # bumped by CI\n');
    const inPlace = bin(['values.yaml', '--tag', 'sha-4f2a9c1', '--in-place'], dir);
    assert.equal(inPlace.status, 0, inPlace.stderr);
    assert.equal(inPlace.stdout, '');
    assert.equal(
      readFileSync(join(dir, 'values.yaml'), 'utf8'),
      'image:\n  repository: acme/api\n  tag: "sha-4f2a9c1" # bumped by CI\n',
    );
  });
});

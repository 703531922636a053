/**
 * `fjord deploy` during a freeze (issue 14, item 1), against a real bare manifest repository: without an
 * override it refuses with until when and commits nothing; `--override-freeze "<reason>"` deploys and the
 * reason lands in the commit's `Fjord-Freeze-Override` trailer; a reason that is not one clean line is a
 * usage error. The CLI runs on the real clock, so the freeze is made open now (a window that started a
 * minute ago and lasts two hours).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../lib/cli/main.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';

const FILE = 'prod/values.yaml';

describe('fjord deploy --override-freeze', () => {
  const repo = createBareRepo({ [FILE]: 'image:\n  tag: v1\n' });
  const dir = mkdtempSync(join(tmpdir(), 'fjord-cli-freeze-'));
  const started = new Date(Date.now() - 60_000);
  const cron = `${started.getUTCMinutes()} ${started.getUTCHours()} ${started.getUTCDate()} ${started.getUTCMonth() + 1} *`;
  writeFileSync(
    join(dir, 'fjord.yaml'),
    oneAppConfigYaml({
      repository: repo.bare,
      file: FILE,
      extra: `freezes: [{ name: release, cron: "${cron}", duration: 2h, timeZone: UTC }]`,
    }),
  );
  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(args, {
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        err += s;
      },
      env: { FJORD_LOG_LEVEL: 'warn', FJORD_DATA_DIR: join(dir, '.fjord') },
      cwd: dir,
    });
    return { code, out, err };
  };
  const head = () => repo.git(['rev-parse', 'main']).trim();

  it('refuses inside the freeze with until when, committing nothing', async () => {
    const before = head();
    const r = await run('deploy', 'api', 'prod', '--tag', 'v2');
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /waiting for the freeze to end at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(fjord\.yaml freeze "release"\); nothing committed \(`--override-freeze "<reason>"` deploys now/,
    );
    assert.equal(head(), before);
  });

  it('an override with a reason deploys, and the reason is in the commit trailer', async () => {
    const r = await run('deploy', 'api', 'prod', '--tag', 'v3', '--override-freeze', 'hotfix for INC-42');
    assert.equal(r.code, 0, r.err);
    const message = repo.git(['log', '-1', '--format=%B', 'main']);
    assert.match(message, /^Fjord-Freeze-Override: hotfix for INC-42$/m);
    assert.match(message, /^Fjord-Reason: manual$/m);
    assert.match(repo.git(['show', `main:${FILE}`]), /tag: v3/);
  });

  it('a reason with a line break, or none, is a usage error', async () => {
    const before = head();
    assert.equal(
      (await run('deploy', 'api', 'prod', '--tag', 'v4', '--override-freeze', 'ok\nFjord-Job: forged')).code,
      2,
    );
    assert.equal((await run('deploy', 'api', 'prod', '--tag', 'v4', '--override-freeze', '')).code, 2);
    assert.equal(head(), before);
  });
});

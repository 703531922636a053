/** `fjord deploy` and `fjord rollback` run the worker's pipeline against a real bare manifest repository. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../lib/cli/main.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';

const FILE = 'prod/values.yaml';

describe('fjord deploy / rollback', () => {
  const repo = createBareRepo({ [FILE]: '# values\nimage:\n  tag: v1 # current\n' });
  const dir = mkdtempSync(join(tmpdir(), 'fjord-cli-'));
  writeFileSync(join(dir, 'fjord.yaml'), oneAppConfigYaml({ repository: repo.bare, file: FILE }));
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
      env: { FJORD_LOG_LEVEL: 'warn' },
      cwd: dir,
    });
    return { code, out, err };
  };
  const tagNow = () => /tag: (\S+)/.exec(repo.git(['show', `main:${FILE}`]))![1];
  const lastMessage = () => repo.git(['log', '-1', '--format=%B', 'main']);

  it('deploys a tag with reason manual, then rolls back to the previous tag from history', async () => {
    let r = await run('deploy', 'api', 'prod', '--tag', 'v2');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /api\/prod manual v2: deployed/);
    assert.equal(tagNow(), 'v2');
    assert.match(lastMessage(), /Fjord-Reason: manual/);
    r = await run('deploy', 'api', 'prod', '--tag', 'v3');
    assert.equal(tagNow(), 'v3');
    r = await run('rollback', 'api', 'prod');
    assert.equal(r.code, 0, r.err);
    assert.equal(tagNow(), 'v2');
    assert.match(lastMessage(), /Fjord-Reason: rollback/);
    r = await run('rollback', 'api', 'prod', '--to', 'v1');
    assert.equal(tagNow(), 'v1');
    assert.equal(repo.git(['show', `main:${FILE}`]), '# values\nimage:\n  tag: v1 # current\n');
  });

  it('same tag is a no-op; a hostile tag or an unknown environment is refused and commits nothing', async () => {
    const before = repo.git(['rev-parse', 'main']);
    assert.match((await run('deploy', 'api', 'prod', '--tag', tagNow()!)).out, /noop/);
    const hostile = await run('deploy', 'api', 'prod', '--tag', 'v1;rm -rf /');
    assert.equal(hostile.code, 1);
    assert.match(hostile.err, /tag/);
    assert.equal((await run('deploy', 'api', 'qa', '--tag', 'v9')).code, 2);
    assert.equal(repo.git(['rev-parse', 'main']), before);
  });
});

/**
 * `fjord prune` (issue 13, item 5) on real Docker engines: containers fjord started for an app or an
 * environment no longer in fjord.yaml, or no longer on that host, are listed by a dry run (nothing
 * changes) and removed with `--apply`, with their env file; what fjord.yaml still places stays, and a
 * container whose labels are not fjord's names is skipped, never acted on.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../lib/cli/main.js';
import type { Fleet } from '../../lib/ssh/fleet.js';
import { engineMissing } from '../fixtures/engine.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { pushTestImage } from '../fixtures/test-images.js';
import { sshFleet } from '../rollout/helpers.js';

describe('fjord prune on real engines', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let ssh: Fleet;
  let file = '';
  let image = '';
  const sh = async (host: string, argv: string[]) => (await (await ssh.session(host)).run(argv)).stdout;
  const names = async (host: string) =>
    (await sh(host, ['docker', 'ps', '-a', '--format', '{{.Names}}'])).trim().split('\n').filter(Boolean).sort();
  const prune = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(['prune', '--config', file, ...args], {
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        err += s;
      },
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal() },
      cwd: tmpdir(),
    });
    return { code, out, err };
  };

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    image = await pushTestImage(registry.url, 'v1', 'web', { name: 'acme/api' });
    ssh = sshFleet(fleet);
    const run = (host: string, name: string, labels: string[]) =>
      sh(host, ['docker', 'run', '-d', '--name', name, ...labels.flatMap((l) => ['--label', l]), `${image}:v1`]);
    for (const host of ['web-1', 'web-2']) await sh(host, ['docker', 'pull', `${image}:v1`]);
    await run('web-1', 'api-prod', ['fjord.app=api', 'fjord.environment=prod']);
    await run('web-1', 'old-prod', ['fjord.app=old', 'fjord.environment=prod']);
    await run('web-1', 'api-staging', ['fjord.app=api', 'fjord.environment=staging']);
    await run('web-1', 'odd', ['fjord.app=x;rm -rf ~', 'fjord.environment=prod']);
    await run('web-2', 'api-prod', ['fjord.app=api', 'fjord.environment=prod']);
    await run('web-2', 'unrelated', []);
    mkdirSync(join(fleet.host('web-1').home, '.fjord/env'), { recursive: true });
    writeFileSync(join(fleet.host('web-1').home, '.fjord/env/old.prod.env'), 'TOKEN=x\n');
    const dir = mkdtempSync(join(tmpdir(), 'fjord-prune-'));
    file = join(dir, 'fjord.yaml');
    writeFileSync(
      file,
      fleetConfigYaml({
        fleet,
        repository: join(dir, 'm.git'),
        image,
        environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1]
`,
      }),
    );
  });
  after(async () => {
    await ssh?.close();
    await fleet?.stop();
    await registry?.stop();
  });

  it('a dry run lists the orphans and changes nothing', async () => {
    const before = [await names('web-1'), await names('web-2')];
    const r = await prune();
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n').sort(), [
      'dry run: nothing was removed (run with --apply to remove)',
      'web-1  api/staging  container api-staging  would be removed',
      'web-1  old/prod  container old-prod  would be removed',
      'web-2  api/prod  container api-prod  would be removed',
    ]);
    assert.match(r.err, /web-1: skipped a container whose fjord labels are not fjord's names: "odd\|x;rm -rf ~\|prod"/);
    assert.deepEqual([await names('web-1'), await names('web-2')], before);
  });

  it('--apply removes the orphans and their env files, under the host lock, and keeps what fjord.yaml places', async () => {
    const r = await prune('--apply');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /web-1  old\/prod  container old-prod  removed/);
    assert.deepEqual(await names('web-1'), ['api-prod', 'odd']);
    assert.deepEqual(await names('web-2'), ['unrelated']);
    assert.equal(existsSync(join(fleet.host('web-1').home, '.fjord/env/old.prod.env')), false);
    assert.equal(existsSync(join(fleet.host('web-1').home, '.fjord/lock')), false, 'the lock is released');
    const again = await prune();
    assert.equal(again.out, 'dry run: nothing was removed (run with --apply to remove)\n');
  });
});

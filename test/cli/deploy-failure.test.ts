/** `fjord deploy` of an unhealthy release on a real engine prints what the new container said, redacted. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../lib/cli/main.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';

describe('fjord deploy of an unhealthy release', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let repo: TestRepo;
  let dir: string;
  // The app prints its VERSION at start; this environment sets it to a value that must not be printed.
  const VERSION = 'cli-secret-value-77';

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
    const image = await pushTestImage(registry.url, 'v2-sick', 'unhealthy');
    repo = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v1\n' });
    const port = await freePort(fleet.hosts[0]!.address);
    dir = mkdtempSync(join(tmpdir(), 'fjord-cli-failure-'));
    writeFileSync(
      join(dir, 'fjord.yaml'),
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image,
        extra: `registries: [{ host: "${registry.host}", insecure: true }]\n`,
        environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1]
        rollout: { container: { ports: ["${port}:8080"], env: { VERSION: ${VERSION} } }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 200ms, timeout: 2s }, hostTimeout: 40s }
`,
      }),
    );
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop()]);
    repo?.cleanup();
  });

  it('prints the container state, the probes and its own log lines under the failed host', async () => {
    let out = '';
    let err = '';
    const code = await main(['deploy', 'api', 'prod', '--tag', 'v2-sick'], {
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        err += s;
      },
      env: { FJORD_LOG_LEVEL: 'warn', FJORD_SSH_KEY: fleet.privateKey.reveal() },
      cwd: dir,
    });
    assert.equal(code, 1, out + err);
    assert.match(
      out,
      /\n {2}web-1 +rolled-back +.*\n {4}container api-prod-next: status running, exit code 0, OOM-killed no, restarts 0\n {4}health probes \(\d+\):\n/,
    );
    assert.match(
      out,
      /\n {6}\d\d:\d\d:\d\d\.\d{3} http:\/\/127\.0\.0\.1:\d+\/cgi-bin\/healthz → HTTP 500 in \d+ ms: database unreachable: connect 10\.9\.9\.9:5432/,
    );
    // stdout and stderr reach the engine's log through two copiers, so lines written at the same instant on
    // the two streams may come back in either order: the section holds both, order not asserted.
    const logs = /\n {4}last log lines:\n((?: {6}.*\n)+)/.exec(out)?.[1] ?? '';
    assert.match(logs, /^ {6}fjord-demo \[redacted\] starting \(mode unhealthy\)$/m, out);
    assert.match(logs, /^ {6}health: database unreachable, answering 500$/m, out);
    assert.ok(!(out + err).includes(VERSION), 'the env value is redacted everywhere');
  });
});

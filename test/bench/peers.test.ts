import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ansiblePlaybook } from '../../bench/ansible-play.js';
import { HEALTH_PATH, startBenchFleet, type BenchFleet } from '../../bench/bench-fleet.js';
import { makeAnsibleRunner } from '../../bench/peers-ansible.js';
import { benchWebhookPeer } from '../../bench/peers-webhook.js';
import { missingTools } from '../../bench/peers.js';
import { parseConfig } from '../../lib/config/index.js';
import type { RolloutConfig } from '../../lib/config/schema.js';
import { deployCommands } from '../../lib/rollout/host-commands.js';
import { engineMissing } from '../fixtures/engine.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { freePort } from '../fixtures/sshd.js';
import { pushTestImage } from '../fixtures/test-images.js';

const noWebhook = missingTools(['webhook', 'wrk']);
const noAnsible = missingTools(['ansible-playbook']);
const why = (missing: string[], pkgs: string) =>
  missing.length > 0 ? `${missing.join(', ')} not installed (apt-get install ${pkgs})` : false;

/** The rollout config of environment `env` of a one-app fleet config. */
function rolloutOf(b: BenchFleet, environments: string, env: string): RolloutConfig {
  const config = parseConfig(
    fleetConfigYaml({ fleet: b.fleet, repository: '/nonexistent/m.git', image: b.image, environments }),
  );
  return config.apps.api!.environments[env]!.rollout;
}

describe('bench/peers: tools on PATH', () => {
  it('names the tools a PATH lacks, so a half of the benchmark is skipped with a message', () => {
    assert.deepEqual(missingTools(['sh', 'no-such-tool-fjord'], '/usr/bin:/bin'), ['no-such-tool-fjord']);
  });
});

describe('bench/peers: receiver vs adnanh/webhook', { skip: why(noWebhook, 'webhook wrk') }, () => {
  // benchWebhookPeer refuses to measure unless both accept the event and both refuse a wrong token, and
  // throws if any measured answer was an error: a short run passing proves the comparison is like for like.
  it('measures both servers on the same authenticated event, with only accepted answers', async () => {
    const rows = await benchWebhookPeer({ connections: [4], rounds: 1, warmupSeconds: 1, seconds: 1 });
    assert.equal(rows.length, 1);
    const [r] = rows;
    assert.equal(r!.connections, 4);
    assert.ok(r!.fjordRps > 0 && r!.webhookRps > 0);
    assert.ok(Math.abs(r!.ratio - r!.fjordRps / r!.webhookRps) < 0.02, 'ratio is fjord req/s ÷ webhook req/s');
    assert.ok(r!.fjordCpuUsPerReq > 0 && r!.webhookCpuUsPerReq > 0);
  });
});

describe('bench/peers: the Ansible play', () => {
  it("runs fjord's own docker commands in serial batches of the batch size, pulled everywhere first", () => {
    const image = '127.0.0.1:5000/demo/web';
    const config = parseConfig(`
sources: { gitlab: { webhookSecretEnv: S } }
manifest: { backend: git, repository: /nonexistent/m.git }
ssh: { privateKeyEnv: K }
hosts:
  web-1: { address: 127.0.0.2, port: 2222, user: deploy, hostKey: "SHA256:${'A'.repeat(43)}" }
apps:
  api:
    source: { project: acme/api }
    image: ${image}
    environments:
      t:
        manifest: { file: api/t.yaml, path: image.tag }
        hosts: [web-1]
        rollout: { batchSize: 3, container: { name: web, ports: ["9999:8080"] }, healthCheck: { port: 9999, path: ${HEALTH_PATH}, interval: 100ms, timeout: 20s } }
`);
    const rollout = config.apps.api!.environments.t!.rollout;
    const [pull, replace] = parse(ansiblePlaybook({ image, environment: 't', rollout }, 'v2', true));
    assert.deepEqual(
      pull.tasks.map((t: { 'ansible.builtin.command': { argv: string[] } }) => t['ansible.builtin.command'].argv),
      [['docker', 'pull', `${image}:v2`]],
    );
    assert.equal(replace.serial, 3);
    const { before: first, after: last } = deployCommands(
      { app: 'api', environment: 't', jobId: 'floor-v2', image, tag: 'v2', rollout, stateDir: '.fjord', pulled: true },
      { ref: `${image}:old`, state: 'running', labels: {} },
    );
    const argvs = replace.tasks
      .filter((t: object) => 'ansible.builtin.command' in t)
      .map((t: { 'ansible.builtin.command': { argv: string[] } }) => t['ansible.builtin.command'].argv);
    assert.deepEqual(
      argvs,
      [...first, ...last.filter((c) => c.step !== 'record')].map((c) => c.argv),
    );
    assert.deepEqual(replace.tasks.map((t: { name: string }) => t.name).slice(3, 5), ['health', 'running']);
  });

  describe('on a real fleet', { skip: why(noAnsible, 'ansible') || engineMissing() }, () => {
    let b: BenchFleet;
    let dir: string;
    before(async () => {
      b = await startBenchFleet(2);
      dir = mkdtempSync('/tmp/fj-ans-test-');
    });
    after(async () => {
      await b?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('leaves the new tag running and healthy on every host, and fails on a version that never gets healthy', async () => {
      const port = await freePort(b.fleet.hosts[0]!.address);
      const env = (name: string, timeout: string) => `
      ${name}:
        manifest: { file: api/${name}.yaml, path: image.tag }
        hosts: [web-1, web-2]
        rollout: { batchSize: 1, container: { name: ans, ports: ["${port}:8080"], settle: 0s }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 100ms, timeout: ${timeout} } }`;
      const good = rolloutOf(b, env('good', '60s') + env('bad', '2s'), 'good');
      const bad = rolloutOf(b, env('good', '60s') + env('bad', '2s'), 'bad');
      const ansible = makeAnsibleRunner(dir, b.fleet);
      const hosts = b.fleet.hosts;
      await b.push('v1');
      await ansible(hosts, { image: b.image, environment: 'good', rollout: good }, 'v1', false);
      await b.push('v2');
      const seconds = await ansible(hosts, { image: b.image, environment: 'good', rollout: good }, 'v2', true);
      assert.ok(seconds > 0);
      for (const h of hosts) {
        assert.equal(
          h.engine!.docker(['inspect', '--format', '{{.Config.Image}}', 'ans']).trim(),
          `${b.image}:v2`,
          h.name,
        );
        assert.equal((await fetch(`http://${h.address}:${port}${HEALTH_PATH}`)).status, 200, h.name);
      }
      await pushTestImage(b.registry.url, 'v3', 'unhealthy');
      await assert.rejects(
        ansible(hosts, { image: b.image, environment: 'good', rollout: bad }, 'v3', true),
        /TASK \[health\][\s\S]*FAILED/,
      );
    });
  });
});

/**
 * The app's env file as desired state on real engines (issue 13, closing gaps 1 and 2): fjord writes it
 * root-owned (uid 0, gid 0) with mode 0600, atomically; `fjord status`, the status page and the reconciler
 * compare each host's env file with what git's encrypted file decrypts to, by hash (key names only, never
 * a value: checked with the chaos suite's secret scan), and `selfHeal` rewrites a drifted, deleted or
 * re-owned env file through the heal job and restarts the app on the same image, health-checked.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { parseConfig } from '../../lib/config/index.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger } from '../../lib/log.js';
import { checkDrift, type DriftReport } from '../../lib/reconcile/drift.js';
import { fleetForConfig } from '../../lib/reconcile/fleet-for.js';
import { formatDrift } from '../../lib/reconcile/format-drift.js';
import { healEnvironment } from '../../lib/reconcile/heal-environment.js';
import { reconcileEnvironment } from '../../lib/reconcile/reconcile-environment.js';
import { reconcileJobs } from '../../lib/reconcile/reconcile-jobs.js';
import { EnvFileNotRootOwned, explainNotRoot, requireRoot, writeEnvFile } from '../../lib/rollout/env-file-commands.js';
import { encryptSops } from '../../lib/secrets/sops.js';
import { CommandFailed } from '../../lib/ssh/errors.js';
import type { Fleet } from '../../lib/ssh/fleet.js';
import { renderStatusPage } from '../../lib/status-page/render-page.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { findLeaks, needlesOf } from '../chaos/scan-secrets.js';
import { engineMissing } from '../fixtures/engine.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { sshFleet } from '../rollout/helpers.js';

const SECRETS_FILE = 'secrets/prod.enc.yaml';
const ENV_FILE = '.fjord/env/api.prod.env';

describe('the env file: root-owned, drift-checked and healed on real engines', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let repo: TestRepo;
  let ssh: Fleet;
  let image = 'unset';
  let ports: ReturnType<typeof makeDeployPorts>;
  let fleetFor: ReturnType<typeof fleetForConfig>;
  const lines: string[] = [];
  const ctx: JobContext = {
    heartbeat: async () => {},
    attempts: 1,
    signal: new AbortController().signal,
    logger: createLogger({ level: 'debug', write: (l) => void lines.push(l) }),
  };
  const values = {
    DATABASE_URL: `postgres://app:pw-${randomBytes(8).toString('hex')}@db/app`,
    API_TOKEN: `tok-${randomBytes(12).toString('hex')}`,
  };
  const handEdited = `hand-${randomBytes(12).toString('hex')}`;
  let identity = '';
  const seen: string[] = [];

  const sh = async (host: string, argv: string[]) => (await (await ssh.session(host)).run(argv)).stdout;
  const containerEnv = async (host: string) =>
    Object.fromEntries(
      (await sh(host, ['docker', 'exec', 'api-prod', 'env']))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  const containerId = (host: string) =>
    sh(host, ['docker', 'inspect', '--format', '{{.Id}} {{.Config.Image}}', 'api-prod']).then((s) => s.trim());
  /** Everything a person could see: the report as JSON (`fjord status --json`), its text, the status page, log lines. */
  const shown = (report: DriftReport, ...more: string[]) => {
    const texts = [
      JSON.stringify(report),
      formatDrift(report),
      renderStatusPage({ generatedAt: report.checkedAt, report, deploys: [] }),
      ...lines,
      ...more,
    ];
    seen.push(...texts);
    return texts;
  };
  /** The chaos suite's secret scan over `texts`: no value (git's or the hand edit's) and no identity anywhere. */
  const assertNoLeak = (texts: readonly string[]) => {
    const needles = needlesOf([...Object.values(values), handEdited, identity, fleet.privateKey.reveal()]);
    const leaks = texts.flatMap((text, i) => findLeaks({ name: `text ${i}`, text }, needles));
    assert.deepEqual(leaks, []);
  };
  /** Reconcile finds the drift and enqueues one heal; the heal runs through the deploy pipeline. */
  const reconcileAndHeal = async (expect: RegExp) => {
    const heals: DeployJob[] = [];
    const reconcile = await reconcileEnvironment(reconcileJobs(ports.config, new Date())[0]!, ctx, {
      config: ports.config,
      store: ports.store,
      fleetFor,
      enqueue: async (j) => void heals.push(j),
      ageIdentities: ports.ageIdentities!,
    });
    assert.equal(reconcile.status, 'drifted', reconcile.detail);
    assert.match(reconcile.detail!, expect);
    assert.equal(heals.length, 1, 'one heal job');
    const healed = await healEnvironment(heals[0]!, ctx, { deployPorts: ports, deploy, fleetFor });
    assert.equal(healed.status, 'deployed', healed.detail);
    assert.match(healed.detail!, /heal attempt 1\/3 of web-2: /);
    return [reconcile.detail!, JSON.stringify(healed)];
  };
  const drift = () =>
    checkDrift({ config: ports.config, store: ports.store, fleetFor, ageIdentities: ports.ageIdentities! });

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    image = await pushTestImage(registry.url, 'v1', 'web', { name: 'acme/api' });
    identity = await generateIdentity();
    const port = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({
      'api/prod.yaml': `image:\n  repository: ${image}\n  tag: v1\n`,
      [SECRETS_FILE]: await encryptSops(new Map(Object.entries(values)), [await identityToRecipient(identity)]),
    });
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image,
        environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2]
        selfHeal: true
        secrets: { file: ${SECRETS_FILE} }
        rollout: { container: { ports: ["${port}:8080"] }, healthCheck: { port: ${port}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 20s }, hostTimeout: 60s }
`,
      }),
    );
    const env = { FJORD_SSH_KEY: fleet.privateKey.reveal(), FJORD_AGE_KEY: identity };
    ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-env-drift-')),
      env,
    });
    fleetFor = fleetForConfig(config, env, repo.root);
    ssh = sshFleet(fleet);
    const first = await deploy(
      makeJob({ app: 'api', environment: 'prod', image, tag: 'v1', id: 'job-env-first', reason: 'converge' }),
      ctx,
      ports,
    );
    assert.equal(first.status, 'deployed', first.detail);
  });
  after(async () => {
    // Whatever a test showed, none of it may hold a value.
    if (fleet) assertNoLeak(seen);
    await ssh?.close();
    await fleet?.stop();
    await registry?.stop();
    repo?.cleanup();
  });

  it('writes the env file root-owned (uid 0, gid 0), mode 0600, in a 0700 directory, and reports it in sync', async () => {
    for (const host of ['web-1', 'web-2']) {
      assert.equal(
        (await sh(host, ['stat', '-c', '%u %g %a', ENV_FILE, '.fjord/env'])).trim(),
        '0 0 600\n0 0 700',
        host,
      );
      assert.equal((await containerEnv(host)).API_TOKEN, values.API_TOKEN);
    }
    const report = await drift();
    assert.equal(report.inSync, true, formatDrift(report));
    assert.deepEqual(
      report.environments[0]!.hosts.map((h) => [h.host, h.secrets?.status]),
      [
        ['web-1', 'in-sync'],
        ['web-2', 'in-sync'],
      ],
    );
  });

  it('a hand-edited env file is reported drifted by key name only (status text, JSON, status page), and selfHeal rewrites it and restarts the app', async () => {
    const before = await containerId('web-2');
    await sh('web-2', ['sh', '-c', `sed -i "s/^API_TOKEN=.*/API_TOKEN=${handEdited}/" ${ENV_FILE}`]);
    const report = await drift();
    assert.equal(report.inSync, false);
    const [web1, web2] = report.environments[0]!.hosts;
    assert.deepEqual([web1!.status, web2!.status], ['in-sync', 'drifted']);
    assert.equal(web2!.running, `${image}:v1`, 'the image is right: the env file alone is the drift');
    assert.deepEqual(web2!.secrets?.keys, { added: [], changed: ['API_TOKEN'], removed: [] });
    const texts = shown(report);
    assert.match(
      texts[1]!,
      /web-2\s+drifted\s+\S+\s+\S+\s+secrets: \.fjord\/env\/api\.prod\.env drifted \(heal: changed API_TOKEN\)/,
    );
    assert.match(texts[2]!, /secrets: \.fjord\/env\/api\.prod\.env drifted \(heal: changed API_TOKEN\)/);
    assertNoLeak(texts);

    const healTexts = await reconcileAndHeal(
      /web-2 drifted \(running v1; secrets: \.fjord\/env\/api\.prod\.env drifted \(heal: changed API_TOKEN\)\)/,
    );
    seen.push(...healTexts);
    assert.notEqual((await containerId('web-2')).split(' ')[0], before.split(' ')[0], 'a new container');
    assert.equal((await containerId('web-2')).split(' ')[1], `${image}:v1`, 'on the same image');
    assert.equal((await containerEnv('web-2')).API_TOKEN, values.API_TOKEN, 'started with the value from git');
    assert.equal((await sh('web-2', ['stat', '-c', '%u %g %a', ENV_FILE])).trim(), '0 0 600');
    assert.equal((await drift()).inSync, true);
    assertNoLeak([...healTexts, ...lines]);
  });

  it('a deleted env file is reported missing and healed', async () => {
    await sh('web-2', ['rm', '-f', ENV_FILE]);
    const report = await drift();
    assert.equal(report.environments[0]!.hosts[1]!.secrets?.status, 'missing');
    assert.equal(report.environments[0]!.hosts[1]!.status, 'drifted');
    assert.match(shown(report)[1]!, /web-2\s+drifted\s+\S+\s+\S+\s+secrets: \.fjord\/env\/api\.prod\.env missing/);
    seen.push(...(await reconcileAndHeal(/secrets: \.fjord\/env\/api\.prod\.env missing/)));
    assert.equal((await sh('web-2', ['stat', '-c', '%u %g %a', ENV_FILE])).trim(), '0 0 600');
    assert.equal((await containerEnv('web-2')).API_TOKEN, values.API_TOKEN);
    assert.equal((await drift()).inSync, true);
  });

  it('an env file that is no longer root-owned 0600 is drifted, and healed back to uid 0, mode 0600', async () => {
    await sh('web-2', ['sh', '-c', `chown 65534:65534 ${ENV_FILE} && chmod 644 ${ENV_FILE}`]);
    const report = await drift();
    assert.equal(report.environments[0]!.hosts[1]!.secrets?.status, 'drifted');
    assert.match(report.environments[0]!.hosts[1]!.secrets!.access!, /^mode 644, owner nobody:nogroup$/);
    seen.push(
      ...shown(report),
      ...(await reconcileAndHeal(/secrets: \.fjord\/env\/api\.prod\.env drifted \(mode 644, owner nobody:nogroup\)/)),
    );
    assert.equal((await sh('web-2', ['stat', '-c', '%u %g %a', ENV_FILE])).trim(), '0 0 600');
  });

  it('without an age identity the env files are not compared, and the report says so', async () => {
    const report = await checkDrift({ config: ports.config, store: ports.store, fleetFor });
    assert.equal(report.environments[0]!.hosts[0]!.secrets, undefined);
    assert.match(
      formatDrift(report),
      /^api\/prod: secrets\/prod\.enc\.yaml: env files not compared \(no age identity in FJORD_AGE_KEY\)$/m,
    );
  });
});

describe('a non-root SSH user and the env file', {
  skip: spawnSync('setpriv', ['--version']).status !== 0 ? 'no setpriv' : false,
}, () => {
  // A real non-root shell (uid 65534 through setpriv) runs the same argv the SSH runner would send.
  const asNobody = (argv: string[], input = '') =>
    spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv], {
      input,
      encoding: 'utf8',
      cwd: '/tmp',
    });

  it('the root check fails as EnvFileNotRootOwned naming the user, before any write; the write itself refuses to leave a non-root file', () => {
    const check = asNobody(requireRoot());
    assert.equal(check.status, 77);
    const err = explainNotRoot(new CommandFailed('web-1', requireRoot(), check.status!, check.stderr, 'inspect'));
    assert.ok(err instanceof EnvFileNotRootOwned, String(err));
    assert.match(
      err.message,
      /^host web-1: the env file must be root-owned \(0600, uid 0\), but the SSH user nobody is not root; connect as root/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'fjord-env-nobody-'));
    execFileSync('chown', ['65534:65534', dir]);
    const write = asNobody(writeEnvFile(join(dir, 'env', 'a.env')), 'KEY=value\n');
    assert.notEqual(write.status, 0, 'chown 0:0 fails for a non-root user: no env file it could own');
    assert.equal(spawnSync('test', ['-e', join(dir, 'env', 'a.env')]).status, 1, 'nothing renamed into place');
    // As root the same argv leaves a root-owned 0600 file.
    assert.equal(asNobody(requireRoot()).stderr.trim(), 'nobody');
    const ok = spawnSync(writeEnvFile(join(dir, 'root.env'))[0]!, writeEnvFile(join(dir, 'root.env')).slice(1), {
      input: 'KEY=value\n',
    });
    assert.equal(ok.status, 0);
    assert.equal(
      execFileSync('stat', ['-c', '%u %g %a', join(dir, 'root.env')], { encoding: 'utf8' }).trim(),
      '0 0 600',
    );
  });
});

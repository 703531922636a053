/**
 * App secrets end to end (issue 13, secrets) on real engines, under the chaos secret scan: a SOPS/age file
 * in the manifest repository becomes a 0600 env file on each host that the real container sees; a
 * secrets-only commit pushed by a person restarts the app on the same image and a removed key leaves the
 * hosts; a wrong identity fails before anything changes; and no value reaches a log line, an outcome, a
 * commit (the status page's source) — even when the health check prints them. Every value is declared to
 * `npm run chaos`'s scan, and everything seen here is captured for it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import { createLogger } from '../../lib/log.js';
import { encryptSops } from '../../lib/secrets/sops.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import type { Fleet } from '../../lib/ssh/fleet.js';
import { engineMissing } from '../fixtures/engine.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { sshFleet } from '../rollout/helpers.js';
import { Hono } from 'hono';
import type { FeedbackLinks } from '../../lib/notify/links.js';
import { renderChatText } from '../../lib/notify/render-chat.js';
import { renderFinishedNote } from '../../lib/notify/render-note.js';
import { computePlan } from '../../lib/plan/compute-plan.js';
import { renderPlan } from '../../lib/plan/render-plan.js';
import { fleetForConfig } from '../../lib/reconcile/fleet-for.js';
import type { RolloutReport } from '../../lib/rollout/types.js';
import { Secret } from '../../lib/secret.js';
import { statusPageFromConfig } from '../../lib/status-page/from-config.js';
import { captureText, declareSecrets } from './figures.js';

const SECRETS_FILE = 'secrets/prod.enc.yaml';

describe('app secrets from SOPS/age files on real engines', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let repo: TestRepo;
  let ssh: Fleet;
  let image = 'unset';
  let recipient = '';
  let identity = '';
  const lines: string[] = [];
  const ctx: JobContext = {
    heartbeat: async () => {},
    attempts: 1,
    signal: new AbortController().signal,
    logger: createLogger({
      level: 'debug',
      write: (l) => {
        lines.push(l);
        captureText(l);
      },
    }),
  };
  const values = {
    DATABASE_URL: `postgres://app:pw-${randomBytes(8).toString('hex')}@db.internal/app`,
    API_TOKEN: `tok-${randomBytes(12).toString('hex')}`,
    REMOVED_LATER: `gone-${randomBytes(8).toString('hex')}`,
  };
  const rotated = `tok-${randomBytes(12).toString('hex')}`;
  const pending = {
    API_TOKEN: `tok-${randomBytes(12).toString('hex')}`,
    NEW_KEY: `new-${randomBytes(8).toString('hex')}`,
  };
  const allValues = [...Object.values(values), rotated, ...Object.values(pending)];
  const manifest = (tag: string) => `image:\n  repository: IMAGE\n  tag: ${tag}\n`;
  let ports: ReturnType<typeof makeDeployPorts>;
  let prodPort = 0;

  const sh = async (host: string, argv: string[]) => (await (await ssh.session(host)).run(argv)).stdout;
  const containerEnv = async (host: string, name = 'api-prod') => {
    const out = await sh(host, ['docker', 'exec', name, 'env']);
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  };
  const containerId = (host: string) =>
    sh(host, ['docker', 'inspect', '--format', '{{.Id}} {{.Config.Image}}', 'api-prod']).then((s) => s.trim());
  const seen = () => [...lines, repo.git(['log', '--format=%B', '--all'])].join('\n');
  const assertNoValues = (text: string, where: string) => {
    for (const v of allValues) assert.equal(text.includes(v), false, `a secret value appears in ${where}`);
  };

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 2, engine: true }), startRegistry()]);
    for (const tag of ['v1', 'v2']) image = await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    identity = await generateIdentity();
    recipient = await identityToRecipient(identity);
    declareSecrets(...allValues, identity, fleet.privateKey.reveal());
    prodPort = await freePort(fleet.hosts[0]!.address);
    const canaryPort = await freePort(fleet.hosts[0]!.address);
    repo = createBareRepo({
      'api/prod.yaml': manifest('v0').replace('IMAGE', image),
      'api/canary.yaml': manifest('v0').replace('IMAGE', image),
      [SECRETS_FILE]: await encryptSops(new Map(Object.entries(values)), [recipient]),
    });
    // The canary's health command prints two secrets from inside the new container, then fails: its probe
    // transcript (diagnostics in the report, the log line and the rollback commit) must show them redacted.
    const leaky = JSON.stringify([
      'sh',
      '-c',
      `docker exec api-canary-next sh -c 'echo "db=$DATABASE_URL token=$API_TOKEN"'; exit 1`,
    ]);
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image,
        environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2]
        secrets: { file: ${SECRETS_FILE} }
        rollout: { batchSize: 2, container: { ports: ["${prodPort}:8080"] }, healthCheck: { port: ${prodPort}, path: ${HEALTH_PATH}, interval: 150ms, timeout: 20s }, hostTimeout: 60s }
      canary:
        manifest: { file: api/canary.yaml, path: image.tag }
        hosts: [web-1]
        secrets: { file: ${SECRETS_FILE} }
        rollout: { container: { ports: ["${canaryPort}:8080"] }, healthCheck: { command: ${leaky}, interval: 200ms, timeout: 3s }, hostTimeout: 60s }
`,
      }),
    );
    ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-secrets-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal(), FJORD_AGE_KEY: identity },
    });
    ssh = sshFleet(fleet);
  });
  after(async () => {
    await ssh?.close();
    await fleet?.stop();
    await registry?.stop();
    repo?.cleanup();
  });

  it('decrypts the SOPS/age file into a 0600 env file that the real container on every host sees', async () => {
    const outcome = await deploy(
      makeJob({ app: 'api', environment: 'prod', image, tag: 'v1', id: 'job-prod-v1', reason: 'manual' }),
      ctx,
      ports,
    );
    captureText(JSON.stringify(outcome));
    assert.equal(outcome.status, 'deployed', outcome.detail);
    for (const host of ['web-1', 'web-2']) {
      const env = await containerEnv(host);
      assert.equal(env.DATABASE_URL, values.DATABASE_URL);
      assert.equal(env.API_TOKEN, values.API_TOKEN);
      assert.equal(env.REMOVED_LATER, values.REMOVED_LATER);
      assert.equal((await sh(host, ['stat', '-c', '%a', '.fjord/env/api.prod.env', '.fjord/env'])).trim(), '600\n700');
      // The container's label is the digest of the encrypted file, which git shows anyway: never of values.
      assert.match(
        await sh(host, ['docker', 'inspect', '--format', '{{index .Config.Labels "fjord.secrets"}}', 'api-prod']),
        /^[0-9a-f]{16}\n$/,
      );
    }
    // The report names the variables each host gained (it had no env file), never their values.
    const report = outcome.rollout as RolloutReport;
    for (const h of report.hosts)
      assert.deepEqual(
        h.secrets,
        { added: ['API_TOKEN', 'DATABASE_URL', 'REMOVED_LATER'], changed: [], removed: [] },
        h.host,
      );
    assertNoValues(JSON.stringify(outcome), 'the outcome');
    assertNoValues(seen(), 'logs or commits');
  });

  it('a secrets-only commit restarts the app with the same image, and a key removed from git leaves the hosts', async () => {
    const before = await Promise.all(['web-1', 'web-2'].map(containerId));
    const next = new Map([
      ['DATABASE_URL', values.DATABASE_URL],
      ['API_TOKEN', rotated],
    ]);
    const sha = repo.pushChange(
      SECRETS_FILE,
      await encryptSops(next, [recipient]),
      'rotate the API token, drop REMOVED_LATER',
    );
    const push = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      after: sha,
      checkout_sha: sha,
      user_name: 'Ada Person',
      project: { path_with_namespace: 'ops/manifests' },
      commits: [
        { id: sha, message: 'rotate the API token', modified: [SECRETS_FILE], timestamp: new Date().toISOString() },
      ],
    };
    const routed = routeEvent(parseGitlab('Push Hook', push) as SourceEvent, {
      config: ports.config,
      deliveryId: 'd-secrets',
      now: Date.now,
    });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    assert.deepEqual(
      routed.jobs.map((j) => [j.environment, j.reason]),
      [
        ['prod', 'converge'],
        ['canary', 'converge'],
      ],
    );
    const commits = repo.git(['rev-list', '--count', 'main']);
    const outcome = await deploy(routed.jobs[0]!, ctx, ports);
    captureText(JSON.stringify(outcome));
    assert.equal(outcome.status, 'deployed', outcome.detail);
    assert.equal(repo.git(['rev-list', '--count', 'main']), commits, 'a converge commits nothing');
    const afterIds = await Promise.all(['web-1', 'web-2'].map(containerId));
    for (const [i, host] of ['web-1', 'web-2'].entries()) {
      assert.notEqual(afterIds[i]!.split(' ')[0], before[i]!.split(' ')[0], `${host}: a new container`);
      assert.equal(afterIds[i]!.split(' ')[1], `${image}:v1`, `${host}: the same image`);
      const env = await containerEnv(host);
      assert.equal(env.API_TOKEN, rotated);
      assert.equal('REMOVED_LATER' in env, false, `${host}: the removed key is gone from the container`);
      assert.equal(
        (await sh(host, ['cat', '.fjord/env/api.prod.env'])).includes('REMOVED_LATER'),
        false,
        `${host}: and from the env file`,
      );
    }
    // The report, the MR note and the chat message name the keys that changed on the hosts, never a value.
    for (const h of (outcome.rollout as RolloutReport).hosts)
      assert.deepEqual(h.secrets, { added: [], changed: ['API_TOKEN'], removed: ['REMOVED_LATER'] }, h.host);
    const note = renderFinishedNote(routed.jobs[0]!, outcome);
    const chat = renderChatText(routed.jobs[0]!, outcome, {
      links: { mergeRequest: () => undefined, manifestCommit: () => undefined } as unknown as FeedbackLinks,
    });
    captureText(note);
    captureText(chat);
    assert.match(note, /^Secrets \(names only\): web-1, web-2: changed API_TOKEN; removed REMOVED_LATER$/m);
    assert.match(chat, /^secrets: web-1, web-2: changed API_TOKEN; removed REMOVED_LATER$/m);
    assertNoValues(note + chat, 'the note or the chat message');
    // The same secrets again: nothing to restart.
    const again = await deploy({ ...routed.jobs[0]!, id: 'job-converge-again' }, ctx, ports);
    assert.equal(again.status, 'noop', again.detail);
    assertNoValues(JSON.stringify([outcome, again]), 'the outcome');
    assertNoValues(seen(), 'logs or commits');
  });

  it('a wrong identity fails with a clear error before any host or the manifest changes', async () => {
    const before = await Promise.all(['web-1', 'web-2'].map(containerId));
    const envBefore = await sh('web-1', ['cat', '.fjord/env/api.prod.env']);
    const other = await generateIdentity();
    const wrong = makeDeployPorts({
      config: ports.config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-secrets-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal(), FJORD_AGE_KEY: other },
    });
    const head = repo.git(['rev-parse', 'main']);
    const outcome = await deploy(
      makeJob({ app: 'api', environment: 'prod', image, tag: 'v2', id: 'job-prod-v2', reason: 'manual' }),
      ctx,
      wrong,
    );
    captureText(JSON.stringify(outcome));
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error, 'SecretsIdentityMismatch');
    assert.match(
      outcome.detail!,
      /^secrets file secrets\/prod\.enc\.yaml: none of the worker's age identities is a recipient of this file/,
    );
    assert.equal(outcome.detail!.includes(other), false);
    assert.equal(repo.git(['rev-parse', 'main']), head, 'nothing committed');
    assert.deepEqual(await Promise.all(['web-1', 'web-2'].map(containerId)), before, 'no container replaced');
    assert.equal(await sh('web-1', ['cat', '.fjord/env/api.prod.env']), envBefore, 'the env file untouched');
  });

  it('values a failing health check printed are redacted in the report, the log line and the rollback commit', async () => {
    const outcome = await deploy(
      makeJob({ app: 'api', environment: 'canary', image, tag: 'v1', id: 'job-canary-v1', reason: 'manual' }),
      ctx,
      ports,
    );
    captureText(JSON.stringify(outcome));
    assert.equal(outcome.status, 'failed', outcome.detail);
    const report = JSON.stringify(outcome.rollout);
    // The probe did print them (so the masking below is what keeps them out), as `[redacted]`.
    assert.match(report, /db=\[redacted\] token=\[redacted\]/);
    const rollback = repo.git(['log', '-1', '--format=%B', 'main', '--', 'api/canary.yaml']);
    assert.match(rollback, /^rollback\(api\/canary\)/);
    assert.match(rollback, /db=\[redacted\] token=\[redacted\]/);
    assert.ok(lines.some((l) => l.includes('rollout failed') && l.includes('token=[redacted]')));
    assertNoValues(JSON.stringify(outcome), 'the outcome');
    assertNoValues(seen(), 'logs or commits');
  });

  it('a plan names the keys a secrets change would change on each host; the plan note and the status page hold no value', async () => {
    // A person pushed a secrets change that is not rolled out yet: the plan of the next merge shows it by name.
    repo.pushChange(
      SECRETS_FILE,
      await encryptSops(new Map([['DATABASE_URL', values.DATABASE_URL], ...Object.entries(pending)]), [recipient]),
      'rotate the token again, add NEW_KEY',
    );
    const env = { FJORD_SSH_KEY: fleet.privateKey.reveal(), FJORD_AGE_KEY: identity };
    const plan = await computePlan(
      makeJob({ app: 'api', environment: 'prod', image, tag: 'v2', id: 'job-plan', reason: 'plan' }),
      {
        config: ports.config,
        store: ports.store,
        fleetFor: fleetForConfig(ports.config, env, repo.root),
        ageIdentities: [new Secret(identity)],
      },
    );
    const prod = plan.environments.find((e) => e.environment === 'prod')!;
    assert.deepEqual(prod.secrets, {
      file: SECRETS_FILE,
      hosts: ['web-1', 'web-2'].map((host) => ({
        host,
        changes: { added: ['NEW_KEY'], changed: ['API_TOKEN'], removed: [] },
      })),
    });
    const note = renderPlan(plan);
    captureText(note);
    assert.match(
      note,
      /^Secrets `secrets\/prod\.enc\.yaml` \(names only\): `web-1`, `web-2`: added NEW_KEY; changed API_TOKEN\.$/m,
    );
    assertNoValues(note, 'the plan note');
    // The status page (drift over the same fleet, deploys from the manifest history) as a browser gets it.
    const handler = statusPageFromConfig({
      config: ports.config,
      configPath: join(repo.root, 'fjord.yaml'),
      env,
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-secrets-page-')),
      logger: ctx.logger,
      hostname: '127.0.0.1',
    })!;
    const app = new Hono();
    app.get('/', handler);
    const page = await (await app.request('/')).text();
    captureText(page);
    assert.match(page, /web-1/);
    assert.match(page, /web-2/);
    assertNoValues(page, 'the status page');
    assertNoValues(seen(), 'logs or commits');
  });
});

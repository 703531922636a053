/**
 * Issue 7 item 3 end to end in the worker: a real manifest repository (git backend), the GitLab stand-in
 * holding a real open MR on the app project, a real registry, and the real sshd fleet (a real Docker engine
 * per host) with one host changed
 * by hand. A plan job (routed from a `Merge Request Hook` body) writes one note with the diff, the
 * environments, batches and the drifted host; a new push updates that same note, even from a fresh handler;
 * nothing is committed, locked or changed anywhere.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import { parseConfig, type Config } from '../../lib/config/index.js';
import { routeEvent } from '../../lib/events/route.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { GitlabNotifier } from '../../lib/notify/gitlab.js';
import { planMarker } from '../../lib/plan/render-plan.js';
import { Secret } from '../../lib/secret.js';
import { openFleet } from '../../lib/ssh/fleet.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployHandler, makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { engineMissing } from '../fixtures/engine.js';
import { pushTestImage } from '../fixtures/test-images.js';
import { payload } from '../fixtures/receiver.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { OPTIONS } from '../rollout/helpers.js';
import { yamlScalar } from '../fixtures/yaml-text.js';

const APP = 'acme/api';
const values = (image: string, tag: string) =>
  `# api values\nreplicas: 2\nimage:\n  repository: ${image}\n  tag: ${tag}   # fjord\n  pullPolicy: IfNotPresent\n`;
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};

describe('plan job: one note on the open MR, nothing changed', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  let gitlab: GitlabStandIn;
  let manifests: TestRepo;
  let source: TestRepo;
  let config: Config;
  let image: string;
  let iid: number;
  const dir = mkdtempSync(join(tmpdir(), 'fjord-plan-'));
  const env = () => ({ FJORD_SSH_KEY: fleet.privateKey.reveal(), GITLAB_TOKEN: gitlab.token });
  const api = () => new Gitlab({ host: gitlab.url, token: gitlab.token });
  const handler = (over: NodeJS.ProcessEnv = {}) =>
    makeDeployHandler({
      config,
      configPath: join(dir, 'fjord.yaml'),
      dataDir: join(dir, 'data'),
      env: { ...env(), ...over },
    });
  /** The plan job the receiver makes of this MR hook (the real parser and router). */
  const planJob = (head: string, action: string, oldrev?: string): DeployJob => {
    const hook = payload('gitlab-merge-request');
    Object.assign(hook.object_attributes, {
      action,
      state: 'opened',
      iid,
      merge_commit_sha: null,
      ...(oldrev ? { oldrev } : {}),
    });
    hook.object_attributes.last_commit.id = head;
    const event = parseGitlab('Merge Request Hook', hook);
    const routed = routeEvent(event as never, { config, deliveryId: `d-${head}`, now: Date.now });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    return routed.jobs[0]!;
  };
  const planNotes = () =>
    gitlab.state.notes.filter((n) => n.mergeRequestIid === iid && n.body.includes(planMarker('api')));
  const fjordRefs = () => manifests.git(['for-each-ref', '--format=%(refname) %(objectname)']);

  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 3, engine: true }), startRegistry()]);
    image = `${registry.host}/acme/api`;
    for (const tag of ['v1', 'v0-hotfix']) await pushTestImage(registry.url, tag, 'web', { name: 'acme/api' });
    manifests = createBareRepo({
      'api/staging.yaml': values(image, 'v1'),
      'api/production.yaml': values(image, 'v1'),
      'api/preview.yaml': values(image, 'v1'),
    });
    source = createBareRepo({ 'src/main.go': 'package main\n' }, { name: 'api' });
    gitlab = await startGitlabStandIn({ projects: { [APP]: { repo: source.bare } } });
    const yaml = fleetConfigYaml({
      fleet,
      repository: manifests.bare,
      image,
      ssh: 'connectTimeout: 3s',
      gitlab: `url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN`,
      app: 'waitForImage: 20s',
      extra: `registries: [{ host: "${registry.host}", insecure: true }]\n`,
      environments: `
      staging:
        manifest: { file: api/staging.yaml, path: image.tag }
        hosts: [web-1]
      production:
        manifest: { file: api/production.yaml, path: image.tag }
        hosts: [web-2, web-3]
        promoteFrom: staging
        rollout: { batchSize: 1 }
      preview:
        branch: develop
        manifest: { file: api/preview.yaml, path: image.tag }
        hosts: [web-1]
`,
    });
    writeFileSync(join(dir, 'fjord.yaml'), yaml);
    config = parseConfig(yaml);
    // What runs now: v1 everywhere (the manifest already says v1: no commit, only the rollout), then web-3 by hand.
    const ports = makeDeployPorts({
      config,
      configPath: join(dir, 'fjord.yaml'),
      dataDir: join(dir, 'setup'),
      env: env(),
    });
    for (const environment of ['staging', 'production']) {
      const outcome = await deploy(
        {
          v: 1,
          id: `setup-${environment}`,
          app: 'api',
          environment,
          image,
          tag: 'v1',
          reason: 'manual',
          source: { provider: 'cli' },
          enqueuedAt: new Date().toISOString(),
        },
        ctx,
        ports,
      );
      assert.equal(outcome.status, 'deployed', outcome.detail);
    }
    const byHand = openFleet([{ ...fleet.host('web-3') }], fleet.auth, OPTIONS);
    for (const argv of [
      ['docker', 'rm', '-f', 'api-production'],
      ['docker', 'pull', `${image}:v0-hotfix`],
      ['docker', 'run', '-d', '--name', 'api-production', `${image}:v0-hotfix`],
    ]) {
      const r = await (await byHand.session('web-3')).exec(argv);
      assert.equal(r.exitCode, 0, r.stderr);
    }
    await byHand.close();
    // A real open MR on the app project.
    await api().Commits.create(
      APP,
      'feat',
      'feat: warm caches',
      [{ action: 'update', filePath: 'src/main.go', content: 'package main // v2\n' }],
      { startBranch: 'main' },
    );
    iid = (await api().MergeRequests.create(APP, 'feat', 'main', 'Warm the caches')).iid;
  });
  after(async () => {
    await Promise.all([fleet?.stop(), registry?.stop(), gitlab?.close()]);
    manifests?.cleanup();
    source?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one plan note: diff, environments, batches, the drifted host; then updates it in place on a new push', async () => {
    const refs = fjordRefs();
    const head1 = source.git(['rev-parse', 'feat']).trim();
    const tag1 = head1.slice(0, 8);
    const first = await handler()(planJob(head1, 'open'), ctx);
    assert.equal(first.status, 'planned', first.detail);
    assert.equal(planNotes().length, 1);
    const body = planNotes()[0]!.body;
    assert.ok(body.startsWith(planMarker('api')));
    // The manifest diff of both environments the merge reaches: only the tag line changes, context around it.
    for (const file of ['api/staging.yaml', 'api/production.yaml'])
      assert.ok(body.includes(`--- a/${file}\n+++ b/${file}\n`), file);
    // A short sha such as 954980e9 reads as a number: YAML (here the yaml library itself) then double-quotes it.
    assert.ok(
      body.includes(
        `   repository: ${image}\n-  tag: v1   # fjord\n+  tag: ${yamlScalar(tag1)}   # fjord\n   pullPolicy: IfNotPresent\n`,
      ),
      body,
    );
    assert.doesNotMatch(body, /api\/preview\.yaml|`preview`/, 'preview deploys from develop, not main');
    assert.match(body, /#### `staging` · deployed by the merge/);
    assert.match(body, /#### `production` · promoted automatically once `staging` is healthy/);
    // Hosts and batches: staging one batch; production batchSize 1 → web-2 then web-3, web-3 drifted.
    assert.match(body, /\| 1 \| `web-1` \| `[^`]+:v1` \| ✅ in sync \|/);
    assert.match(body, /\| 1 \| `web-2` \| `[^`]+:v1` \| ✅ in sync \|/);
    assert.match(body, /\| 2 \| `web-3` \| `[^`]+:v0-hotfix` \| ⚠️ drifted: the manifest says `[^`]+:v1` \|/);
    assert.match(body, /2 batch\(es\) of 1 host\(s\)/);
    assert.match(body, /⏳ not in the registry yet/);

    // Read-only: no manifest commit or branch, no host lock left or taken, web-3 still runs its hand-made tag.
    assert.equal(fjordRefs(), refs);
    for (const h of fleet.hosts) assert.equal(existsSync(join(h.home, '.fjord', 'lock')), false, h.name);
    const again = await handler()(planJob(head1, 'open'), ctx);
    assert.match(String(again.detail), /updated/);

    // The deploy note of the same MR is another note, never touched by plans.
    const notifier = new GitlabNotifier({ url: gitlab.url, token: new Secret(gitlab.token), logger: silentLogger });
    await notifier.jobStarted({
      v: 1,
      id: 'deploy-job-01',
      app: 'api',
      environment: 'staging',
      image,
      tag: tag1,
      sha: head1,
      reason: 'merge',
      source: { provider: 'gitlab', project: APP, ref: 'main', mr: iid },
      enqueuedAt: new Date().toISOString(),
    });

    // A new push: new head, its image already built; a fresh handler (new process) finds the note by its marker.
    await api().Commits.create(APP, 'feat', 'feat: tune', [
      { action: 'update', filePath: 'src/main.go', content: 'package main // v3\n' },
    ]);
    const head2 = source.git(['rev-parse', 'feat']).trim();
    await pushTestImage(registry.url, head2.slice(0, 8), 'web', { name: 'acme/api' });
    const second = await handler()(planJob(head2, 'update', head1), ctx);
    assert.equal(second.status, 'planned', second.detail);
    const notes = gitlab.state.notes.filter((n) => n.mergeRequestIid === iid);
    assert.equal(notes.length, 2, 'one plan note and one deploy note');
    assert.equal(planNotes().length, 1);
    assert.equal(planNotes()[0]!.revisions.length, 3);
    assert.equal(notes.find((n) => !n.body.includes(planMarker('api')))!.revisions.length, 1, 'deploy note untouched');
    const updated = planNotes()[0]!.body;
    assert.ok(updated.includes(`+  tag: ${yamlScalar(head2.slice(0, 8))}   # fjord`), updated);
    assert.ok(!updated.includes(tag1), 'the old plan is replaced, not appended');
    assert.match(updated, /✅ already in the registry/);
    assert.equal(fjordRefs(), refs);

    // A late redelivery of the first push's hook: the MR moved on, so the plan is dropped, the note kept.
    const stale = await handler()(planJob(head1, 'open'), ctx);
    assert.equal(stale.status, 'superseded', stale.detail);
    assert.equal(planNotes()[0]!.revisions.length, 3);
  });

  it('a GitLab that refuses the token never fails the plan: it is logged and the job ends planned', async () => {
    const lines: string[] = [];
    const head = source.git(['rev-parse', 'feat']).trim();
    const h = makeDeployHandler({
      config,
      configPath: join(dir, 'fjord.yaml'),
      dataDir: join(dir, 'data'),
      env: { ...env(), GITLAB_TOKEN: 'glpat-refused-000000' },
    });
    const outcome = await h(planJob(head, 'open'), { ...ctx, logger: createLogger({ write: (l) => lines.push(l) }) });
    assert.equal(outcome.status, 'planned');
    assert.match(String(outcome.detail), /note NOT written/);
    assert.match(lines.join('\n'), /notification failed.*HTTP 401/);
    assert.ok(!lines.join('\n').includes('glpat-refused-000000'));
    assert.equal(planNotes()[0]!.revisions.length, 3);
  });

  it('a short sha that reads as a number (12345678, 1234e567) is planned as a double-quoted tag', async () => {
    // git decides the sha: commit until the short sha is one YAML reads as a number (~3% of shas).
    const before = source.git(['rev-parse', 'feat']).trim();
    let head = before;
    for (let i = 0; i < 500 && yamlScalar(head.slice(0, 8)) === head.slice(0, 8); i++) {
      await api().Commits.create(APP, 'feat', `chore: try ${i}`, [
        { action: 'update', filePath: 'src/main.go', content: `package main // try ${i}\n` },
      ]);
      head = source.git(['rev-parse', 'feat']).trim();
    }
    const tag = head.slice(0, 8);
    assert.notEqual(yamlScalar(tag), tag, 'no short sha that reads as a number in 500 commits');
    const outcome = await handler()(planJob(head, 'update', before), ctx);
    assert.equal(outcome.status, 'planned', outcome.detail);
    const body = planNotes()[0]!.body;
    assert.ok(body.includes(`-  tag: v1   # fjord\n+  tag: "${tag}"   # fjord\n`), body);
  });
});

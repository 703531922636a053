/**
 * Plans on GitHub pull requests (issue 14, item 5) in the worker: a real manifest repository (git
 * backend), the GitHub stand-in over a real bare repository holding an open PR, and a one-host sshd fleet.
 * The plan job is routed from @octokit/webhooks-examples' `pull_request` `opened` / `synchronize` bodies
 * (Codertocat/Hello-World, PR #2 from `changes` into `master`) with the head sha of the real branch. One
 * comment with the plan; a new push edits that same comment, even from a fresh handler; a late plan of
 * an older push and a plan of a merged PR write nothing; nothing is committed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig, type Config } from '../../lib/config/index.js';
import { parseGithub } from '../../lib/events/parse-github.js';
import { routeEvent } from '../../lib/events/route.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { planMarker } from '../../lib/plan/render-plan.js';
import { makeDeployHandler } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGithubStandIn, type GithubStandIn } from '../fixtures/github/stand-in.js';
import { githubExample } from '../fixtures/receiver.js';

const REPO = 'Codertocat/Hello-World';
const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};

describe('plan job on a GitHub pull request: one comment, edited in place', () => {
  let fleet: TestFleet;
  let github: GithubStandIn;
  let manifests: TestRepo;
  let source: TestRepo;
  let config: Config;
  const dir = mkdtempSync(join(tmpdir(), 'fjord-gh-plan-'));
  const env = () => ({ FJORD_SSH_KEY: fleet.privateKey.reveal(), GITHUB_TOKEN: github.token });
  const handler = () =>
    makeDeployHandler({ config, configPath: join(dir, 'fjord.yaml'), dataDir: join(dir, 'data'), env: env() });
  const planJob = (head: string, action: string): DeployJob => {
    const hook = githubExample('pull_request', (e) => e.action === action);
    hook.pull_request.head.sha = head;
    const event = parseGithub('pull_request', hook);
    const routed = routeEvent(event as never, { config, deliveryId: `d-${head}`, now: Date.now });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    return routed.jobs[0]!;
  };
  const planComments = () =>
    github.state.comments.filter((c) => c.issueNumber === 2 && c.body.includes(planMarker('api')));

  before(async () => {
    fleet = await startFleet({ hosts: 1 });
    manifests = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v1\n' });
    source = createBareRepo({ 'src/main.go': 'package main\n' }, { name: 'hello-world', branch: 'master' });
    source.git(['branch', 'changes', 'master']);
    source.pushChange('src/main.go', 'package main // v2\n', 'feat: v2', 'changes');
    github = await startGithubStandIn({ repositories: { [REPO]: { repo: source.bare } } });
    github.openPull(REPO, { number: 2, headRef: 'changes', baseRef: 'master' });
    const yaml = fleetConfigYaml({
      fleet,
      repository: manifests.bare,
      image: 'registry.invalid/acme/api',
      environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1]
`,
    })
      .replace(/^sources: .*$/m, `sources: { github: { url: "${github.url}", tokenEnv: GITHUB_TOKEN } }`)
      .replace('source: { project: acme/api }', `source: { provider: github, project: ${REPO}, branch: master }`);
    writeFileSync(join(dir, 'fjord.yaml'), yaml);
    config = parseConfig(yaml);
  });
  after(async () => {
    await Promise.all([fleet?.stop(), github?.close()]);
    manifests?.cleanup();
    source?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one plan comment on the open PR, then edits it on a new push, from a fresh handler too', async () => {
    const manifestHead = manifests.git(['rev-parse', 'main']).trim();
    const head1 = source.git(['rev-parse', 'changes']).trim();
    const first = await handler()(planJob(head1, 'opened'), ctx);
    assert.equal(first.status, 'planned', first.detail);
    assert.match(first.detail ?? '', /^#2 deploys [0-9a-f]{8} to prod; 1 host\(s\)/);
    assert.equal(planComments().length, 1);
    const body = planComments()[0]!.body;
    assert.ok(body.startsWith(planMarker('api')), body);
    assert.ok(body.includes('--- a/api/prod.yaml\n+++ b/api/prod.yaml\n'), body);
    assert.ok(body.includes(`-  tag: v1\n+  tag: `), body);
    assert.match(body, /`web-1`/);

    const head2 = source.pushChange('src/main.go', 'package main // v3\n', 'feat: v3', 'changes');
    const second = await handler()(planJob(head2, 'synchronize'), ctx);
    assert.equal(second.status, 'planned', second.detail);
    assert.match(second.detail ?? '', /note updated/);
    assert.equal(planComments().length, 1, 'no second comment');
    assert.equal(planComments()[0]!.revisions.length, 2);
    assert.ok(planComments()[0]!.body.includes(head2.slice(0, 8)), 'the comment now plans the new head');
    assert.equal(manifests.git(['rev-parse', 'main']).trim(), manifestHead, 'nothing committed');
  });

  it('a late plan of an older push, and any plan once the PR is merged, write nothing', async () => {
    const revisions = planComments()[0]!.revisions.length;
    const old = source.git(['rev-parse', 'changes~1']).trim();
    const late = await handler()(planJob(old, 'synchronize'), ctx);
    assert.deepEqual(
      [late.status, late.detail],
      ['superseded', `#2 moved on to ${source.git(['rev-parse', 'changes']).trim().slice(0, 8)}: its own plan follows`],
    );
    const head = source.git(['rev-parse', 'changes']).trim();
    await github.closePull(REPO, 2, head);
    const merged = await handler()(planJob(head, 'synchronize'), ctx);
    assert.deepEqual([merged.status, merged.detail], ['superseded', '#2 is merged: no plan']);
    assert.equal(planComments()[0]!.revisions.length, revisions, 'the comment untouched');
    assert.ok(!github.state.requests.some((r) => r.status >= 400), 'GitHub refused nothing');
  });
});

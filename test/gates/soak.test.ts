/**
 * Staging soak (issue 14, item 2) on a real bare manifest repository: a promotion to production waits
 * until staging has run the tag for `soak.healthyFor` since its deploy commit — the wait ends at exactly
 * that time (the injected clock), no polling — and is refused once staging no longer runs it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { GateWait } from '../../lib/gates/gate.js';
import type { DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { silentNotifier } from '../../lib/notify/notifier.js';
import { makeDeployHandler } from '../../lib/worker/make-handler.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';

const ctx: JobContext = {
  heartbeat: async () => {},
  attempts: 1,
  logger: silentLogger,
  signal: new AbortController().signal,
};

describe('staging soak', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-soak-'));
  const repo = createBareRepo({ 'api/staging.yaml': 'image:\n  tag: v0\n', 'api/prod.yaml': 'image:\n  tag: v0\n' });
  after(() => {
    repo.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const yaml = `
sources: { gitlab: { webhookSecretEnv: S } }
manifest: { backend: git, repository: ${repo.bare} }
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    waitForImage: 0s
    environments:
      staging: { manifest: { file: api/staging.yaml, path: image.tag } }
      prod: { manifest: { file: api/prod.yaml, path: image.tag }, promoteFrom: staging, soak: { after: staging, healthyFor: 30m } }
`;
  writeFileSync(join(dir, 'fjord.yaml'), yaml);
  let clock = new Date();
  const queued: DeployJob[] = [];
  const handle = makeDeployHandler({
    config: parseConfig(yaml),
    configPath: join(dir, 'fjord.yaml'),
    dataDir: join(dir, 'data'),
    notifier: silentNotifier,
    env: {},
    now: () => clock,
    enqueue: async (j) => void queued.push(j),
  });
  const tagOf = (env: string) => /tag: (\S+)/.exec(repo.git(['show', `main:api/${env}.yaml`]))![1];

  it('a promotion waits until staging was healthy for soak.healthyFor, then deploys; refused once staging moved on', async () => {
    const staged = await handle(
      makeJob({
        app: 'api',
        environment: 'staging',
        image: 'registry.example.com/acme/api',
        tag: 'v1',
        id: 'job-staging-v1',
      }),
      ctx,
    );
    assert.equal(staged.status, 'deployed', staged.detail);
    const committedAt = Date.parse(repo.git(['log', '-1', '--format=%aI', '--', 'api/staging.yaml']).trim());
    const promotion = queued.shift()!;
    assert.equal(promotion.reason, 'promote');
    clock = new Date(committedAt + 10 * 60_000);
    const wait = await handle(promotion, ctx).then(
      () => assert.fail('expected a wait'),
      (e: unknown) => e,
    );
    assert.ok(wait instanceof GateWait, String(wait));
    assert.equal(
      wait.until.getTime(),
      committedAt + 30 * 60_000,
      'waits until exactly 30 min after the staging deploy',
    );
    assert.equal(wait.delaySec, 20 * 60);
    assert.match(wait.reason, /^waiting for staging to run v1 healthily until /);
    assert.equal(tagOf('prod'), 'v0');
    clock = new Date(committedAt + 30 * 60_000);
    const done = await handle(promotion, ctx);
    assert.equal(done.status, 'deployed', done.detail);
    assert.equal(tagOf('prod'), 'v1');

    assert.equal(
      (
        await handle(
          makeJob({
            app: 'api',
            environment: 'staging',
            image: 'registry.example.com/acme/api',
            tag: 'v2',
            id: 'job-staging-v2',
          }),
          ctx,
        )
      ).status,
      'deployed',
    );
    assert.equal(
      (
        await handle(
          makeJob({
            app: 'api',
            environment: 'staging',
            image: 'registry.example.com/acme/api',
            tag: 'v3',
            id: 'job-staging-v3',
            enqueuedAt: new Date().toISOString(),
            source: {
              provider: 'gitlab',
              project: 'acme/api',
              ref: 'main',
              mr: 3,
              author: 'x',
              committedAt: new Date().toISOString(),
            },
          }),
          ctx,
        )
      ).status,
      'deployed',
    );
    const stale = queued.find((j) => j.tag === 'v2')!;
    clock = new Date(Date.now() + 3_600_000);
    const refused = await handle(stale, ctx);
    assert.equal(refused.status, 'failed');
    assert.match(
      refused.detail!,
      /^refused: staging no longer runs v2 \(it moved on to v3 in [0-9a-f]{12}\): not promoted to prod$/,
    );
  });
});

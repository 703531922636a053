/**
 * The embedded mode's reconcile interval: `fjord start` enqueues one reconcile job per environment with
 * hosts at start and every `reconcile.interval`, into its durable local queue, where its own worker runs
 * them. A restart within the same tick enqueues nothing new (same ids, dedup kept on disk).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { startEmbedded } from '../../lib/embedded/start-embedded.js';
import { groupOf, type DeployJob } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import { startReconcileSchedule } from '../../lib/reconcile/schedule-embedded.js';
import { GITLAB_TOKENS } from '../fixtures/receiver.js';
import { testQueueKey } from '../fixtures/jobs.js';

const config = (interval: string) =>
  parseConfig(`
sources: { gitlab: { webhookSecretEnv: FJORD_GITLAB_SECRET } }
manifest: { backend: git, repository: ./manifests.git }
hosts: { web-1: { address: 127.0.0.2, hostKey: "SHA256:${'A'.repeat(43)}" } }
reconcile: { interval: ${interval} }
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    environments:
      staging: { manifest: { file: s.yaml, path: image.tag }, hosts: [web-1] }
      prod: { manifest: { file: p.yaml, path: image.tag }, hosts: [web-1] }
      docs: { manifest: { file: d.yaml, path: image.tag } }
`);

const until = async (check: () => boolean, ms = 5_000) => {
  for (const end = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > end) throw new Error('timed out');
};

describe('embedded reconcile schedule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-schedule-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fjord start runs reconcile jobs at start and every interval, through its queue and worker', async () => {
    const seen: DeployJob[] = [];
    const running = await startEmbedded({
      config: config('300ms'),
      configPath: join(dir, 'fjord.yaml'),
      env: { FJORD_GITLAB_SECRET: GITLAB_TOKENS[0], FJORD_DATA_DIR: join(dir, 'data') },
      cwd: dir,
      logger: silentLogger,
      port: 0,
      hostname: '127.0.0.1',
      handler: async (job) => {
        seen.push(job);
        return { status: 'noop' };
      },
    });
    try {
      await until(() => new Set(seen.map((j) => j.enqueuedAt)).size >= 2);
    } finally {
      await running.stop();
    }
    assert.ok(seen.every((j) => j.reason === 'reconcile'));
    const ticks = [...new Set(seen.map((j) => j.enqueuedAt))].sort();
    const first = seen.filter((j) => j.enqueuedAt === ticks[0]);
    assert.deepEqual(first.map(groupOf).sort(), ['api/prod', 'api/staging'], 'one job per environment with hosts');
    // Ticks are `now` rounded down to the interval (a late timer may land one interval further on).
    for (const t of ticks) assert.equal(Date.parse(t) % 300, 0, t);
    assert.equal(new Set(seen.map((j) => j.id)).size, seen.length);
  });

  it('a restart within one tick enqueues nothing new; interval 0 enqueues nothing', async () => {
    const queue = await createLocalQueue({ key: testQueueKey(), dir: join(dir, 'queue'), fsync: false });
    const now = () => new Date('2030-01-01T12:01:00Z');
    try {
      for (let i = 0; i < 2; i++)
        await startReconcileSchedule({ queue, config: config('5m'), logger: silentLogger, now }).stop();
      await startReconcileSchedule({
        queue,
        config: config('0s'),
        logger: silentLogger,
        now: () => new Date('2030-02-01T00:00:00Z'),
      }).stop();
      const jobs: DeployJob[] = [];
      for (let got = await queue.receive(10, 60); got.length > 0; got = await queue.receive(10, 60))
        for (const m of got) {
          jobs.push(m.job);
          await queue.ack(m);
        }
      assert.deepEqual(jobs.map((j) => [groupOf(j), j.enqueuedAt]).sort(), [
        ['api/prod', '2030-01-01T12:00:00.000Z'],
        ['api/staging', '2030-01-01T12:00:00.000Z'],
      ]);
    } finally {
      await queue.close();
    }
  });
});

/**
 * Approvals end to end through a real queue and the worker loop (issue 14, item 2): the embedded durable
 * queue on disk (no coalescing) and SQS FIFO on the fauxqs server, a bare git manifest repository, and
 * the GitLab stand-in (merged MRs, members, notes, commit statuses). A deploy waiting for approval ends
 * as `waiting` and does not hold its environment's queue group: a newer merge runs past it and replaces
 * it, and after 2 `/fjord approve` comments (routed as the receiver routes them, sent through the queue)
 * only the newer one deploys; the older never does. GitOps-only environment: its manifest commit is its
 * deploy.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger } from '../../lib/log.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import type { Queue } from '../../lib/queue/queue.js';
import { enqueueOn, sendJob } from '../../lib/queue/send-job.js';
import { createSqsQueue } from '../../lib/queue/sqs.js';
import { makeDeployHandler } from '../../lib/worker/make-handler.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import { startWorker } from '../../lib/worker/worker-loop.js';
import { eventually } from '../fixtures/eventually.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { makeJob, testQueueKey } from '../fixtures/jobs.js';
import { startSqsServer, TEST_CREDENTIALS, TEST_REGION, type SqsServer } from '../fixtures/sqs-server.js';

const FILE = 'api/prod.yaml';
const PROJECT = 'acme/api';
const ADA = { id: 201, username: 'ada', name: 'Ada Lovelace' };
const MIA = { id: 202, username: 'maintainer-mia' };
const DAN = { id: 203, username: 'dev-dan' };

let sqs: SqsServer | undefined;
after(() => sqs?.stop());

const queues: Record<string, (dir: string) => Promise<Queue>> = {
  'the embedded queue (no coalescing)': (dir) =>
    createLocalQueue({ dir: join(dir, 'queue'), key: testQueueKey(), coalesce: false, fsync: false }),
  'SQS FIFO (fauxqs)': async () => {
    sqs ??= await startSqsServer();
    const pair = await sqs.createFifoPair();
    return createSqsQueue({
      key: testQueueKey(),
      ...pair,
      region: TEST_REGION,
      endpoint: sqs.endpoint,
      credentials: TEST_CREDENTIALS,
      waitTimeSeconds: 0,
    });
  },
};

for (const [kind, openQueue] of Object.entries(queues)) {
  describe(`approvals on ${kind}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-approvals-queue-'));
    const app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
    const manifests = createBareRepo({ [FILE]: 'image:\n  tag: v0\n' });
    const outcomes: Array<{ job: DeployJob; outcome: Outcome }> = [];
    let stop = async () => {};
    let send: (job: DeployJob) => Promise<unknown>;
    let approve: (user: { id: number; username: string }, mr: DeployJob) => Promise<void>;
    let merged: (n: number) => Promise<DeployJob>;
    let gitlab: Awaited<ReturnType<typeof startGitlabStandIn>>;

    before(async () => {
      gitlab = await startGitlabStandIn({ projects: { [PROJECT]: { repo: app.bare } } });
      gitlab.state.members.push(
        { projectId: 1, userId: ADA.id, username: ADA.username, name: ADA.name, accessLevel: 40 },
        { projectId: 1, userId: MIA.id, username: MIA.username, accessLevel: 40 },
        { projectId: 1, userId: DAN.id, username: DAN.username, accessLevel: 30 },
      );
      const yaml = `sources: { gitlab: { url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN, confirmMerge: false } }
manifest: { backend: git, repository: ${manifests.bare} }
commands: { minAccessLevel: 20 }
apps:
  api:
    source: { project: ${PROJECT} }
    image: registry.example.com/acme/api
    waitForImage: 0s
    environments:
      prod: { manifest: { file: ${FILE}, path: image.tag }, protect: { approvals: 2 } }
`;
      writeFileSync(join(dir, 'fjord.yaml'), yaml);
      const config = parseConfig(yaml);
      const env = { GITLAB_TOKEN: gitlab.token };
      const logger = createLogger({ level: 'warn', write: (l) => process.env.APPROVALS_DEBUG && console.error(l) });
      const queue = await openQueue(dir);
      const handle = makeDeployHandler({
        config,
        configPath: join(dir, 'fjord.yaml'),
        dataDir: join(dir, 'data'),
        env,
        notifier: createNotifier(config, { env, logger }),
        enqueue: enqueueOn(queue),
      });
      const worker = startWorker({
        queue,
        handle,
        logger,
        idleMs: 20,
        onOutcome: (job, outcome) => outcomes.push({ job, outcome }),
      });
      stop = async () => {
        await worker.stop();
        await queue.close();
      };
      send = (job) => sendJob(queue, job);
      const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
      merged = async (n) => {
        await api.Commits.create(
          PROJECT,
          `feat-${n}`,
          `feat: ${n}`,
          [{ action: 'update', filePath: 'main.go', content: `package main // ${n}\n` }],
          { startBranch: 'main' },
        );
        const mr = await api.MergeRequests.create(PROJECT, `feat-${n}`, 'main', `change ${n}`);
        const m = await api.MergeRequests.merge(PROJECT, mr.iid);
        return makeJob({
          n,
          id: `job-approvals-${n}`,
          tag: `v${n}`,
          sha: m.merge_commit_sha!,
          enqueuedAt: new Date().toISOString(),
          source: { provider: 'gitlab', project: PROJECT, ref: 'main', mr: mr.iid, author: ADA.name },
        });
      };
      let noteId = 900;
      approve = async (user, of) => {
        const payload = {
          object_kind: 'note',
          event_type: 'note',
          user: { ...user, name: user.username },
          project: { id: 1, path_with_namespace: PROJECT },
          object_attributes: {
            id: ++noteId,
            note: '/fjord approve prod',
            noteable_type: 'MergeRequest',
            discussion_id: 'b'.repeat(40),
            system: false,
          },
          merge_request: { iid: of.source.mr, target_branch: 'main', last_commit: { id: of.sha } },
        };
        const routed = routeEvent(parseGitlab('Note Hook', payload) as SourceEvent, {
          config,
          deliveryId: `note-${noteId}`,
          now: Date.now,
        });
        assert.ok('jobs' in routed && routed.jobs.length === 1, JSON.stringify(routed));
        await send(routed.jobs[0]!);
      };
    });
    after(async () => {
      await stop();
      await gitlab?.close();
      app.cleanup();
      manifests.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const outcomeOf = (job: DeployJob, approved = false) =>
      outcomes.find((o) => o.job.id === job.id && !!o.job.approved === approved)?.outcome;
    const replies = () => gitlab.state.notes.filter((n) => n.body.startsWith('@')).map((n) => n.body);
    const tag = () => /tag: (\S+)/.exec(manifests.git(['show', `main:${FILE}`]))![1]!;
    const deployCommits = () =>
      manifests
        .git(['log', '--format=%s', 'main', '--', FILE])
        .trim()
        .split('\n')
        .filter((s) => s.startsWith('deploy('));

    it('a newer merge while one waits for approval: the group is not held, and after 2 approvals only the newer one deploys; the older never does', async () => {
      const older = await merged(1);
      await send(older);
      const waited = await eventually(() => outcomeOf(older), 'the older merge to end as waiting');
      assert.equal(waited.status, 'waiting', waited.detail);
      assert.match(waited.detail!, /^waiting for 0 of 2 approvals: `\/fjord approve prod` by someone other than ada /);
      const status = gitlab.state.statuses.filter((s) => s.sha === older.sha).at(-1);
      assert.equal(status?.state, 'pending');
      assert.match(status?.description ?? '', /^waiting for 0 of 2 approvals/);

      // Not behind the older one: its group is free, so the newer merge runs at once and replaces it.
      const newer = await merged(2);
      await send(newer);
      assert.equal((await eventually(() => outcomeOf(newer), 'the newer merge to end as waiting')).status, 'waiting');

      await approve(MIA, newer);
      await eventually(() => replies().find((r) => r.startsWith('@maintainer-mia')), 'the first approval answered');
      await approve(DAN, newer);
      const deployed = await eventually(() => outcomeOf(newer, true), 'the approved deploy');
      assert.equal(deployed.status, 'deployed', deployed.detail);
      assert.deepEqual(replies(), [
        '@maintainer-mia approved v2 for api/prod: 1 of 2 approvals.',
        '@dev-dan approved v2 for api/prod: 2 of 2 approvals; deploying.',
      ]);
      assert.equal(tag(), 'v2');
      assert.match(
        manifests.git(['log', '-1', '--format=%B', '--', FILE]),
        /Fjord-Approved-By: maintainer-mia, dev-dan/,
      );
      assert.equal(deployCommits().length, 1, deployCommits().join('\n'));
      assert.deepEqual(
        outcomes.filter((o) => o.job.id === older.id).map((o) => o.outcome.status),
        ['waiting'],
        'the older one never deploys',
      );
    });
  });
}

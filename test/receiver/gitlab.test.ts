import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deployJobSchema } from '../../lib/job.js';
import {
  payload,
  gitlabHeaders,
  makeTestQueue,
  startTestReceiver,
  testConfig,
  type TestReceiver,
} from '../fixtures/receiver.js';

const MERGE_SHA = '4f1e9c2ab5d37086e1f2c3b4a5d6e7f8091a2b3c';
const json = (value: unknown) => JSON.stringify(value);

describe('receiver: GitLab events', () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver();
  });
  after(() => r.close());

  it('queues a merged MR for the watched branch, and not for a promoteFrom environment', async () => {
    const body = json(payload('gitlab-merge-request'));
    const res = await r.post(
      '/hooks/gitlab',
      body,
      gitlabHeaders('Merge Request Hook', undefined, { 'idempotency-key': 'b7f4c1d2-0a9e-4c3b-8e2f-6d5a4b3c2e1f' }),
    );
    assert.equal(res.status, 202, json(res.body));
    assert.equal(res.body.queued.length, 1);
    const [entry] = res.body.queued;
    assert.equal(entry.app, 'api');
    assert.equal(entry.environment, 'staging'); // production has promoteFrom: staging
    assert.equal(entry.tag, MERGE_SHA.slice(0, 8));
    assert.equal(entry.sha, MERGE_SHA);
    assert.match(entry.id, /^[A-Za-z0-9_-]{8,64}$/);
    const job = r.queue.accepted.at(-1)!;
    assert.deepEqual(deployJobSchema.parse(job), job);
    assert.equal(job.id, entry.id);
    assert.equal(job.reason, 'merge');
    assert.equal(job.image, 'registry.example.com/acme/api');
    assert.deepEqual(job.source, {
      provider: 'gitlab',
      project: 'acme/api',
      ref: 'main',
      mr: 42,
      author: 'Jane Doe',
      deliveryId: 'b7f4c1d2-0a9e-4c3b-8e2f-6d5a4b3c2e1f',
      // The MR's updated_at ("2026-11-20 10:05:41 UTC") is the merge time: it orders late deliveries.
      committedAt: '2026-11-20T10:05:41.000Z',
    });
  });

  it('a merge and the push it causes end as one job (trigger merge: the push is ignored)', async () => {
    const q = await makeTestQueue();
    const s = await startTestReceiver({ queue: q });
    try {
      const mr = payload('gitlab-merge-request');
      mr.object_attributes.merge_commit_sha = 'a'.repeat(40);
      const push = payload('gitlab-push');
      push.after = push.checkout_sha = 'a'.repeat(40);
      const first = await s.post('/hooks/gitlab', json(mr), gitlabHeaders('Merge Request Hook'));
      const second = await s.post('/hooks/gitlab', json(push), gitlabHeaders('Push Hook'));
      assert.equal(first.status, 202);
      assert.equal(second.status, 200);
      assert.match(second.body.ignored, /app api deploys on merge, not on push/);
      // In the other order too: a push arriving first must not make a job of its own.
      const third = await s.post('/hooks/gitlab', json(push), gitlabHeaders('Push Hook'));
      assert.equal(third.status, 200);
      assert.equal(q.accepted.length, 1);
    } finally {
      await s.close();
    }
  });

  it('with trigger push, the merge is ignored and the push queued once; a redelivery is a duplicate', async () => {
    const q = await makeTestQueue();
    const s = await startTestReceiver({ queue: q });
    try {
      const mr = payload('gitlab-merge-request');
      mr.project.path_with_namespace = 'acme/worker';
      const push = payload('gitlab-push');
      push.project.path_with_namespace = 'acme/worker';
      const merge = await s.post('/hooks/gitlab', json(mr), gitlabHeaders('Merge Request Hook'));
      assert.equal(merge.status, 200);
      assert.match(merge.body.ignored, /app worker deploys on push, not on merge/);
      const pushed = await s.post('/hooks/gitlab', json(push), gitlabHeaders('Push Hook'));
      assert.equal(pushed.status, 202);
      assert.equal(pushed.body.queued[0].tag, `main-${MERGE_SHA.slice(0, 8)}`);
      assert.equal(pushed.body.queued[0].duplicate, undefined);
      const again = await s.post('/hooks/gitlab', json(push), gitlabHeaders('Push Hook'));
      assert.equal(again.status, 202);
      assert.equal(again.body.queued[0].duplicate, true);
      assert.equal(q.accepted.length, 1);
      assert.equal(q.sends, 2);
      assert.equal(q.accepted[0]!.reason, 'push');
    } finally {
      await s.close();
    }
  });

  it('a fast-forward merge (merge_commit_sha null) deploys last_commit.id', async () => {
    const mr = payload('gitlab-merge-request');
    mr.object_attributes.merge_commit_sha = null;
    const res = await r.post('/hooks/gitlab', json(mr), gitlabHeaders('Merge Request Hook'));
    assert.equal(res.status, 202);
    assert.equal(res.body.queued[0].sha, mr.object_attributes.last_commit.id);
  });

  it('ignores MR actions other than merge (and the plan actions, test/plan), and merges into other branches', async () => {
    const approved = payload('gitlab-merge-request');
    approved.object_attributes.action = 'approved';
    delete approved.object_attributes.last_commit; // an ignored event is not held to the fields a merge needs
    const a = await r.post('/hooks/gitlab', json(approved), gitlabHeaders('Merge Request Hook'));
    assert.deepEqual(
      [a.status, a.body],
      [
        200,
        { ignored: 'merge request action "approved": fjord acts on merge (deploy) and open, reopen, update (plan)' },
      ],
    );
    const other = payload('gitlab-merge-request');
    other.object_attributes.target_branch = 'release-1';
    const b = await r.post('/hooks/gitlab', json(other), gitlabHeaders('Merge Request Hook'));
    assert.equal(b.status, 200);
    assert.match(b.body.ignored, /no environment of app api deploys branch "release-1"/);
  });

  it('deploys an environment whose own branch overrides the app branch', async () => {
    const mr = payload('gitlab-merge-request');
    mr.object_attributes.target_branch = 'develop';
    const res = await r.post('/hooks/gitlab', json(mr), gitlabHeaders('Merge Request Hook'));
    assert.equal(res.status, 202);
    assert.deepEqual(
      res.body.queued.map((q: any) => q.environment),
      ['preview'],
    );
  });

  it('pipeline trigger: a successful branch pipeline deploys its sha; failed and MR pipelines are ignored', async () => {
    const ok = payload('gitlab-pipeline');
    ok.project.path_with_namespace = 'acme/jobs';
    const res = await r.post('/hooks/gitlab', json(ok), gitlabHeaders('Pipeline Hook'));
    assert.equal(res.status, 202, json(res.body));
    assert.deepEqual(
      res.body.queued.map((q: any) => [q.app, q.environment, q.tag]),
      [['jobs', 'production', MERGE_SHA]],
    );
    assert.equal(r.queue.accepted.at(-1)!.reason, 'pipeline');
    const failed = structuredClone(ok);
    failed.object_attributes.status = 'failed';
    assert.deepEqual((await r.post('/hooks/gitlab', json(failed), gitlabHeaders('Pipeline Hook'))).body, {
      ignored: 'pipeline status "failed", not success',
    });
    const mrPipeline = structuredClone(ok);
    mrPipeline.object_attributes.source = 'merge_request_event';
    assert.equal((await r.post('/hooks/gitlab', json(mrPipeline), gitlabHeaders('Pipeline Hook'))).status, 200);
    // The MR sample's app (acme/api) deploys on merge: its pipelines are ignored.
    assert.match(
      (await r.post('/hooks/gitlab', json(payload('gitlab-pipeline')), gitlabHeaders('Pipeline Hook'))).body.ignored,
      /deploys on merge, not on pipeline/,
    );
  });

  it('ignores branch deletions, and tag pushes unless source.tags is set', async () => {
    const deleted = payload('gitlab-push');
    deleted.project.path_with_namespace = 'acme/worker';
    deleted.after = '0'.repeat(40);
    deleted.checkout_sha = null;
    assert.deepEqual((await r.post('/hooks/gitlab', json(deleted), gitlabHeaders('Push Hook'))).body, {
      ignored: 'branch "main" deleted',
    });

    const tag = payload('gitlab-push');
    Object.assign(tag, { object_kind: 'tag_push', ref: 'refs/tags/v1.4.0' });
    const ignored = await r.post('/hooks/gitlab', json(tag), gitlabHeaders('Tag Push Hook'));
    assert.equal(ignored.status, 200);
    assert.match(ignored.body.ignored, /app api does not deploy git tags/);

    tag.project.path_with_namespace = 'acme/worker'; // source.tags: true
    const queued = await r.post('/hooks/gitlab', json(tag), gitlabHeaders('Tag Push Hook'));
    assert.equal(queued.status, 202);
    assert.equal(queued.body.queued[0].tag, 'v1.4.0');
    assert.equal(r.queue.accepted.at(-1)!.source.ref, 'v1.4.0');

    const tagDeleted = structuredClone(tag);
    tagDeleted.after = '0'.repeat(40);
    tagDeleted.checkout_sha = null;
    assert.deepEqual((await r.post('/hooks/gitlab', json(tagDeleted), gitlabHeaders('Tag Push Hook'))).body, {
      ignored: 'tag "v1.4.0" deleted',
    });
  });

  it('ignores events of other kinds and projects fjord does not deploy', async () => {
    const note = await r.post('/hooks/gitlab', json({ object_kind: 'note' }), gitlabHeaders('Note Hook'));
    // A Note Hook is read now (issue 14, item 4: /fjord commands), but one that is no MR comment is still ignored, never a 4xx.
    assert.deepEqual(
      [note.status, note.body],
      [200, { ignored: 'GitLab note without user: not a merge request comment fjord can answer' }],
    );
    const other = payload('gitlab-merge-request');
    other.project.path_with_namespace = 'acme/unknown';
    const res = await r.post('/hooks/gitlab', json(other), gitlabHeaders('Merge Request Hook'));
    assert.deepEqual([res.status, res.body], [200, { ignored: 'no app deploys gitlab project "acme/unknown"' }]);
  });

  it('renders {branch} with / replaced and {mr}', async () => {
    const s = await startTestReceiver({
      config: testConfig((c) => {
        c.apps.worker.source.branch = 'release/2026';
        c.apps.api.tag = 'mr{mr}-{branch}-{shortSha}';
      }),
    });
    try {
      const push = payload('gitlab-push');
      push.project.path_with_namespace = 'acme/worker';
      push.ref = 'refs/heads/release/2026';
      const res = await s.post('/hooks/gitlab', json(push), gitlabHeaders('Push Hook'));
      assert.equal(res.body.queued[0].tag, `release-2026-${MERGE_SHA.slice(0, 8)}`);
      const mr = await s.post(
        '/hooks/gitlab',
        json(payload('gitlab-merge-request')),
        gitlabHeaders('Merge Request Hook'),
      );
      assert.equal(mr.body.queued[0].tag, `mr42-main-${MERGE_SHA.slice(0, 8)}`);
    } finally {
      await s.close();
    }
  });

  it('takes the delivery id from Idempotency-Key, else X-Gitlab-Event-UUID, else a hash of the body', async () => {
    const mr = payload('gitlab-merge-request');
    const ids: string[] = [];
    const extras: Record<string, string>[] = [
      { 'idempotency-key': 'key-1', 'x-gitlab-event-uuid': 'uuid-1' },
      { 'x-gitlab-event-uuid': 'uuid-2' },
      {},
    ];
    for (const extra of extras) {
      mr.object_attributes.merge_commit_sha = String(ids.length + 1).repeat(40);
      const res = await r.post('/hooks/gitlab', json(mr), gitlabHeaders('Merge Request Hook', undefined, extra));
      assert.equal(res.status, 202);
      ids.push(r.queue.accepted.at(-1)!.source.deliveryId!);
    }
    assert.equal(ids[0], 'key-1');
    assert.equal(ids[1], 'uuid-2');
    assert.match(ids[2]!, /^sha256:[0-9a-f]{64}$/);
  });
});

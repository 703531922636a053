/**
 * Receiver routing of open merge requests (issue 7, item 3): open / reopen / update-with-new-commits on a
 * watched branch queue one keyed `plan` job per app; title edits, other branches, `notify.planNotes: false`
 * are answered 200 ignored; hostile values are refused with 422 naming the field before a job exists.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dedupIdOf, deployJobSchema } from '../../lib/job.js';
import { planJobId } from '../../lib/events/route-plan.js';
import {
  githubExample,
  githubHeaders,
  gitlabHeaders,
  payload,
  startTestReceiver,
  testConfig,
  type TestReceiver,
} from '../fixtures/receiver.js';

const HEAD = 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7'; // last_commit.id of the sample
const NEXT = '0b5f3c1d2e4a6f8091a2b3c4d5e6f708192a3b4c';
const json = (value: unknown) => JSON.stringify(value);

/** The sample MR hook as GitLab sends it for an open MR: action, state, no merge commit. */
function mrHook(action: string, { sha = HEAD, oldrev }: { sha?: string; oldrev?: string } = {}): any {
  const mr = payload('gitlab-merge-request');
  Object.assign(mr.object_attributes, {
    action,
    state: 'opened',
    merge_commit_sha: null,
    detailed_merge_status: 'mergeable',
  });
  mr.object_attributes.last_commit.id = sha;
  if (oldrev) mr.object_attributes.oldrev = oldrev;
  return mr;
}

describe('receiver: plan jobs for open merge requests', () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver();
  });
  after(() => r.close());
  const post = (body: unknown, delivery = `d-${Math.random()}`) =>
    r.post(
      '/hooks/gitlab',
      json(body),
      gitlabHeaders('Merge Request Hook', undefined, { 'x-gitlab-event-uuid': delivery }),
    );

  it('open: one plan job for the app, keyed by app + MR + head sha; a redelivery and a reopen are duplicates', async () => {
    const res = await post(mrHook('open'));
    assert.equal(res.status, 202, json(res.body));
    assert.equal(res.body.queued.length, 1, 'one job per app, not per environment');
    const job = r.queue.accepted.at(-1)!;
    assert.deepEqual(deployJobSchema.parse(job), job);
    assert.equal(job.reason, 'plan');
    assert.equal(job.id, planJobId('api', 42, HEAD));
    assert.equal(dedupIdOf(job), `plan/${job.id}`);
    assert.deepEqual(
      [job.app, job.environment, job.sha, job.tag, job.image],
      ['api', 'staging', HEAD, HEAD.slice(0, 8), 'registry.example.com/acme/api'],
    );
    assert.deepEqual(
      [job.source.provider, job.source.project, job.source.ref, job.source.mr, job.source.author],
      ['gitlab', 'acme/api', 'main', 42, 'Jane Doe'],
    );

    const again = await post(mrHook('open'));
    assert.equal(again.body.queued[0].duplicate, true);
    const reopened = await post(mrHook('reopen'));
    assert.deepEqual([reopened.body.queued[0].id, reopened.body.queued[0].duplicate], [job.id, true]);
  });

  it('update: new commits (oldrev) plan the new head; a title edit (no oldrev) is ignored', async () => {
    const accepted = r.queue.accepted.length;
    const pushed = await post(mrHook('update', { sha: NEXT, oldrev: HEAD }));
    assert.equal(pushed.status, 202, json(pushed.body));
    assert.equal(pushed.body.queued[0].duplicate, undefined);
    assert.equal(r.queue.accepted.at(-1)!.id, planJobId('api', 42, NEXT));
    const edited = await post(mrHook('update', { sha: NEXT }));
    assert.deepEqual([edited.status, edited.body], [200, { ignored: 'merge request update without new commits' }]);
    assert.equal(r.queue.accepted.length, accepted + 1);
  });

  it('ignores other branches, closed MRs, unwatched projects; plans any app trigger', async () => {
    const other = mrHook('open');
    other.object_attributes.target_branch = 'release-1';
    assert.match((await post(other)).body.ignored, /no environment of app api deploys branch "release-1"/);
    const closed = mrHook('update', { oldrev: NEXT });
    closed.object_attributes.state = 'closed';
    assert.deepEqual((await post(closed)).body, { ignored: 'merge request is "closed", not opened' });
    const unknown = mrHook('open');
    unknown.project.path_with_namespace = 'acme/unknown';
    assert.deepEqual((await post(unknown)).body, { ignored: 'no app deploys gitlab project "acme/unknown"' });
    // acme/worker deploys on push: merging makes that push, so the MR is planned all the same.
    const worker = mrHook('open');
    worker.project.path_with_namespace = 'acme/worker';
    const res = await post(worker);
    assert.equal(res.status, 202, json(res.body));
    assert.deepEqual(
      [r.queue.accepted.at(-1)!.app, r.queue.accepted.at(-1)!.tag],
      ['worker', `main-${HEAD.slice(0, 8)}`],
    );
  });

  it('notify.planNotes: false answers 200 ignored and queues nothing', async () => {
    const s = await startTestReceiver({ config: testConfig((c) => (c.notify = { planNotes: false })) });
    try {
      const res = await s.post('/hooks/gitlab', json(mrHook('open')), gitlabHeaders('Merge Request Hook'));
      assert.deepEqual([res.status, res.body], [200, { ignored: 'plan notes are off (notify.planNotes: false)' }]);
      assert.equal(s.queue.accepted.length, 0);
    } finally {
      await s.close();
    }
  });

  it('refuses hostile values with 422 naming the webhook field', async () => {
    const accepted = r.queue.accepted.length;
    const expect422 = async (body: unknown, path: string) => {
      const res = await post(body);
      assert.equal(res.status, 422, json(res.body));
      assert.ok(String(res.body.message).startsWith(`${path}:`), json(res.body));
    };
    await expect422(mrHook('open', { sha: '$(touch /tmp/pwned)' }), 'object_attributes.last_commit.id');
    await expect422(mrHook('open', { sha: HEAD.toUpperCase() }), 'object_attributes.last_commit.id');
    const noCommit = mrHook('open');
    delete noCommit.object_attributes.last_commit;
    await expect422(noCommit, 'object_attributes.last_commit.id');
    const iid = mrHook('open');
    iid.object_attributes.iid = '42; rm -rf /';
    await expect422(iid, 'object_attributes.iid');
    assert.equal(r.queue.accepted.length, accepted, 'nothing queued');
  });

  it('an author name with a line break and controls is cleaned, not refused: the plan is still queued', async () => {
    const author = mrHook('open', { sha: 'c'.repeat(40) });
    author.user.name = 'Jane\n{"level":"error","msg":"forged"}\u001b[2J\u202e';
    const res = await post(author);
    assert.equal(res.status, 202, json(res.body));
    assert.equal(r.queue.accepted.at(-1)!.source.author, 'Jane {"level":"error","msg":"forged"}[2J');
  });

  it('GitHub: opened / synchronize pull requests into the watched branch are planned; hostile head sha refused', async () => {
    const send = (body: unknown) => {
      const text = json(body);
      return r.post('/hooks/github', text, githubHeaders('pull_request', text));
    };
    const opened = githubExample('pull_request', (e) => e.action === 'opened' && e.pull_request.base.ref === 'master');
    const res = await send(opened);
    assert.equal(res.status, 202, json(res.body));
    const job = r.queue.accepted.at(-1)!;
    assert.deepEqual(
      [job.reason, job.app, job.sha, job.source.mr, job.tag],
      [
        'plan',
        'web',
        opened.pull_request.head.sha,
        opened.number,
        `pr${opened.number}-${opened.pull_request.head.sha.slice(0, 8)}`,
      ],
    );
    const sync = githubExample('pull_request', (e) => e.action === 'synchronize');
    Object.assign(sync, { repository: opened.repository });
    Object.assign(sync.pull_request, {
      head: { ...sync.pull_request.head, sha: NEXT },
      base: { ...sync.pull_request.base, ref: 'master' },
    });
    assert.equal((await send(sync)).body.queued[0].id, planJobId('web', sync.number, NEXT));
    const hostile = structuredClone(sync);
    hostile.pull_request.head.sha = 'main';
    const bad = await send(hostile);
    assert.equal(bad.status, 422);
    assert.match(bad.body.message, /^pull_request\.head\.sha:/);
  });
});

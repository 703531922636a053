import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deployJobSchema } from '../../lib/job.js';
import {
  githubExample,
  githubHeaders,
  makeTestQueue,
  startTestReceiver,
  testConfig,
  type TestReceiver,
} from '../fixtures/receiver.js';

// Shapes from @octokit/webhooks-examples (repository Codertocat/Hello-World, base branch master); the
// closed example is unmerged there, so the merged one is that example with merged: true.
const mergedPr = (sha: string) => {
  const pr = githubExample('pull_request', (e) => e.action === 'closed');
  Object.assign(pr.pull_request, { merged: true, merge_commit_sha: sha, merged_by: pr.sender });
  return pr;
};
const pushTo = (ref: string, sha: string) => {
  const push = githubExample('push', (e) => e.ref === 'refs/heads/master' && !e.deleted);
  return Object.assign(push, { ref, after: sha });
};

describe('receiver: GitHub events', () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver();
  });
  after(() => r.close());
  const post = (event: string, body: unknown, delivery?: string) => {
    const text = JSON.stringify(body);
    return r.post('/hooks/github', text, githubHeaders(event, text, undefined, delivery));
  };

  it('queues a merged pull request into the watched branch', async () => {
    const sha = 'b'.repeat(40);
    const res = await post('pull_request', mergedPr(sha), '72d3162e-cc78-11e3-81ab-4c9367dc0958');
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.queued.map((q: any) => [q.app, q.environment, q.tag, q.sha]),
      [['web', 'production', 'pr2-bbbbbbbb', sha]],
    );
    const job = r.queue.accepted.at(-1)!;
    assert.deepEqual(deployJobSchema.parse(job), job);
    assert.equal(job.reason, 'merge');
    assert.deepEqual(job.source, {
      provider: 'github',
      project: 'Codertocat/Hello-World',
      ref: 'master',
      mr: 2,
      author: 'Codertocat',
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    });
    // GitHub repository names are case-insensitive; the job names the project as the config spells it.
    const lower = mergedPr('a'.repeat(40));
    lower.repository.full_name = 'codertocat/hello-world';
    assert.equal((await post('pull_request', lower)).status, 202);
    assert.equal(r.queue.accepted.at(-1)!.source.project, 'Codertocat/Hello-World');
  });

  it('ignores closed-unmerged and other pull request actions, pings and other events', async () => {
    const closed = githubExample('pull_request', (e) => e.action === 'closed');
    assert.deepEqual((await post('pull_request', closed)).body, { ignored: 'pull request closed without merging' });
    const labeled = githubExample('pull_request', (e) => e.action === 'labeled');
    assert.deepEqual((await post('pull_request', labeled)).body, {
      ignored: 'pull request action "labeled": fjord acts on closed (deploy) and opened, reopened, synchronize (plan)',
    });
    const ping = githubExample('ping', () => true);
    assert.deepEqual((await post('ping', ping)).body, { ignored: 'github event "ping" is not one fjord acts on' });
    const star = githubExample('star', () => true);
    assert.equal((await post('star', star)).status, 200);
  });

  it('a merged PR and its push end as one job (trigger merge ignores the push)', async () => {
    const q = await makeTestQueue();
    const s = await startTestReceiver({ queue: q });
    try {
      const sha = 'c'.repeat(40);
      for (const [event, body] of [
        ['pull_request', mergedPr(sha)],
        ['push', pushTo('refs/heads/master', sha)],
      ] as const) {
        const text = JSON.stringify(body);
        const res = await s.post('/hooks/github', text, githubHeaders(event, text));
        assert.equal(res.status, event === 'push' ? 200 : 202, JSON.stringify(res.body));
      }
      assert.equal(q.accepted.length, 1);
    } finally {
      await s.close();
    }
  });

  it('trigger push: queues a push to the watched branch; deletions, tags and other branches are ignored', async () => {
    const s = await startTestReceiver({
      config: testConfig((c) =>
        Object.assign(c.apps.web, { source: { ...c.apps.web.source, trigger: 'push' }, tag: '{shortSha}' }),
      ),
    });
    try {
      const send = (event: string, body: unknown) => {
        const text = JSON.stringify(body);
        return s.post('/hooks/github', text, githubHeaders(event, text));
      };
      const pushed = await send('push', pushTo('refs/heads/master', 'd'.repeat(40)));
      assert.equal(pushed.status, 202);
      assert.equal(s.queue.accepted[0]!.reason, 'push');
      assert.equal(s.queue.accepted[0]!.source.author, 'Codertocat');
      const deleted = githubExample('push', (e) => e.deleted === true);
      assert.deepEqual((await send('push', deleted)).body, { ignored: 'tag "simple-tag" deleted' });
      const tag = githubExample('push', (e) => e.ref === 'refs/tags/simple-tag' && !e.deleted);
      assert.match((await send('push', tag)).body.ignored, /does not deploy git tags/);
      assert.match(
        (await send('push', pushTo('refs/heads/feature', 'e'.repeat(40)))).body.ignored,
        /no environment of app web deploys branch "feature"/,
      );
      // trigger push: a merged PR is ignored; its push is the deploy.
      assert.match(
        (await send('pull_request', mergedPr('f'.repeat(40)))).body.ignored,
        /deploys on push, not on merge/,
      );
      assert.equal(s.queue.accepted.length, 1);
    } finally {
      await s.close();
    }
  });
});

/**
 * Issue 12, item 13: webhooks GitLab and GitHub really send. Git tags that are valid refs but not image
 * tags are mapped by the documented rule (lib/events/image-tag-of-ref.ts) or answered 200 ignored, never
 * 4xx (four in a row disable a GitLab hook); bodies up to the senders' 25 MB maximum are accepted; System
 * Hook payloads that name no project are 200 ignored. Real Node receiver over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  githubExample,
  githubHeaders,
  gitlabHeaders,
  payload,
  send,
  startTestReceiver,
  type TestReceiver,
} from '../fixtures/receiver.js';

const json = (v: unknown) => JSON.stringify(v);
const MiB = 1024 * 1024;
let n = 0;
const nextSha = () => (++n).toString(16).padStart(40, 'e');

const tagPush = (name: string) => {
  const tag = payload('gitlab-push');
  Object.assign(tag, { object_kind: 'tag_push', ref: `refs/tags/${name}`, after: nextSha(), checkout_sha: null });
  tag.project.path_with_namespace = 'acme/worker'; // source.tags: true
  return tag;
};

/** A valid merge event padded to `bytes` with a large field GitLab does send (the MR description). */
function paddedMerge(bytes: number): Buffer {
  const mr = payload('gitlab-merge-request');
  mr.object_attributes.merge_commit_sha = nextSha();
  mr.object_attributes.description = '';
  const base = Buffer.byteLength(json(mr));
  mr.object_attributes.description = 'd'.repeat(bytes - base);
  const body = Buffer.from(json(mr));
  assert.equal(body.length, bytes);
  return body;
}

describe('receiver: webhook edge cases the senders really send', () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver();
  });
  after(() => r.close());

  it('a git tag that is a valid ref but no image tag is mapped: v1.0.0+build.5 → v1.0.0-build.5, release/2024-01 → release-2024-01', async () => {
    for (const [ref, tag] of [
      ['v1.0.0+build.5', 'v1.0.0-build.5'],
      ['release/2024-01', 'release-2024-01'],
      ['v2.0.0', 'v2.0.0'],
    ]) {
      const res = await r.post('/hooks/gitlab', json(tagPush(ref!)), gitlabHeaders('Tag Push Hook'));
      assert.equal(res.status, 202, `${ref}: ${json(res.body)}`);
      assert.equal(res.body.queued[0].tag, tag);
      // The job keeps the real ref for the audit trail.
      assert.equal(r.queue.accepted.at(-1)!.source.ref, ref);
    }
  });

  it("a git tag with no image tag, even mapped, or outside fjord's ref grammar is 200 ignored, never 4xx, never a job", async () => {
    const before = r.queue.sends;
    for (const ref of ['.hidden', '-rc1', 'x'.repeat(129), 'x$(id)', 'x`id`', 'x;rm', 'a..b', 'v1\u00e9']) {
      const res = await r.post('/hooks/gitlab', json(tagPush(ref)), gitlabHeaders('Tag Push Hook'));
      assert.equal(res.status, 200, `${ref}: ${json(res.body)}`);
      assert.match(res.body.ignored, /has no image tag/);
    }
    // GitHub sends tag pushes as push events: the same rule.
    const gh = githubExample('push', (e) => e.ref === 'refs/tags/simple-tag' && !e.deleted);
    gh.ref = 'refs/tags/x$(id)';
    const body = json(gh);
    assert.equal((await r.post('/hooks/github', body, githubHeaders('push', body))).status, 200);
    assert.equal(r.queue.sends, before);
  });

  it('System Hook payloads without a project are 200 ignored', async () => {
    const events = [
      { event_name: 'user_create', name: 'Jane', username: 'jane', user_id: 41 },
      { object_kind: 'push', event_name: 'push', ref: 'refs/heads/main', after: nextSha() },
      { object_kind: 'merge_request', user: { name: 'Jane' }, object_attributes: { action: 'merge' } },
      { event_name: 'repository_update', project_id: 1, changes: [] },
    ];
    for (const event of events) {
      const res = await r.post('/hooks/gitlab', json(event), gitlabHeaders('System Hook'));
      assert.equal(res.status, 200, `${json(event)}: ${json(res.body)}`);
      assert.match(res.body.ignored, /System Hook .* names no project/);
    }
    // A System Hook that does name a project is still read (a merge through the instance-wide hook).
    const mr = payload('gitlab-merge-request');
    mr.object_attributes.merge_commit_sha = nextSha();
    assert.equal((await r.post('/hooks/gitlab', json(mr), gitlabHeaders('System Hook'))).status, 202);
  });

  it('a 24 MiB merge event is accepted by default (GitLab and GitHub send up to 25 MB); past 25 MiB it is 413', async () => {
    const big = paddedMerge(24 * MiB);
    // Streamed in 64 KiB chunks, as a sender's TCP stream arrives.
    const chunks = Array.from({ length: Math.ceil(big.length / (64 * 1024)) }, (_, i) =>
      big.subarray(i * 64 * 1024, (i + 1) * 64 * 1024),
    );
    const ok = await send(`${r.url}/hooks/gitlab`, chunks, {
      ...gitlabHeaders('Merge Request Hook'),
      'content-length': String(big.length),
    });
    assert.equal(ok.status, 202, json(ok.body));
    const gh = githubExample('pull_request', (e) => e.action === 'closed');
    Object.assign(gh.pull_request, { merged: true, merge_commit_sha: nextSha(), merged_by: gh.sender });
    gh.pull_request.body = 'b'.repeat(24 * MiB);
    const ghBody = json(gh);
    const signed = await r.post('/hooks/github', ghBody, githubHeaders('pull_request', ghBody));
    assert.equal(signed.status, 202, json(signed.body));

    const over = await send(`${r.url}/hooks/gitlab`, [Buffer.alloc(16)], {
      ...gitlabHeaders('Merge Request Hook'),
      'content-length': String(25 * MiB + 1),
    });
    assert.equal(over.status, 413);
  });
});

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  failingQueue,
  gitlabHeaders,
  payload,
  send,
  startTestReceiver,
  testConfig,
  type TestReceiver,
} from '../fixtures/receiver.js';

const MiB = 1024 * 1024;
const json = (v: unknown) => JSON.stringify(v);
const HOSTILE = ['x;rm -rf /', 'x$(id)', 'x`id`', 'x\nid', '../../etc/passwd'];

describe('receiver: answers', () => {
  let r: TestReceiver;
  before(async () => {
    // The size tests below use a 1 MiB limit; the 25 MiB default is in limits.test.ts.
    r = await startTestReceiver({ maxBodyBytes: MiB });
  });
  after(() => r.close());

  it('GET /healthz is 200; unknown paths 404', async () => {
    const res = await fetch(`${r.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
    assert.equal((await fetch(`${r.url}/hooks/bitbucket`, { method: 'POST', body: '{}' })).status, 404);
  });

  it('413 for a body over 1 MiB with Content-Length, answered before the body is sent', async () => {
    const headers = { ...gitlabHeaders('Merge Request Hook'), 'content-length': String(2 * MiB) };
    // The answer must not wait for the announced body: it comes before half of it is written.
    const res = await send(`${r.url}/hooks/gitlab`, Array<Buffer>(64).fill(Buffer.alloc(32 * 1024, 32)), headers);
    assert.equal(res.status, 413);
    assert.equal(res.body.error, 'PayloadTooLarge');
    assert.ok(res.written < MiB, `wrote ${res.written} bytes before the answer`);
    // Size comes before authentication.
    const unauth = await send(`${r.url}/hooks/gitlab`, [Buffer.alloc(16)], { ...headers, 'x-gitlab-token': 'wrong' });
    assert.equal(unauth.status, 413);
  });

  it('413 for a chunked body without Content-Length, as soon as it passes the limit', async () => {
    const chunk = Buffer.alloc(64 * 1024, 32);
    const chunks = Array<Buffer>(128).fill(chunk); // 8 MiB offered
    const res = await send(`${r.url}/hooks/gitlab`, chunks, {
      ...gitlabHeaders('Merge Request Hook'),
      'transfer-encoding': 'chunked',
    });
    assert.equal(res.status, 413);
    assert.ok(res.written < 4 * MiB, `${res.written} bytes were written before the answer`);
    // Exactly at the limit is fine (and then fails later, on JSON).
    const atLimit = await send(`${r.url}/hooks/gitlab`, Array<Buffer>(16).fill(chunk), {
      ...gitlabHeaders('Merge Request Hook'),
      'transfer-encoding': 'chunked',
    });
    assert.equal(atLimit.status, 400);
    assert.equal(r.queue.sends, 0);
  });

  it('415 unless application/json (charset utf-8 allowed); checked after authentication', async () => {
    const body = json(payload('gitlab-merge-request'));
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'application/jsonp',
      '',
    ]) {
      const res = await r.post('/hooks/gitlab', body, { ...gitlabHeaders('Merge Request Hook'), 'content-type': type });
      assert.equal(res.status, 415, type);
    }
    const unauth = await r.post('/hooks/gitlab', body, {
      ...gitlabHeaders('Merge Request Hook', 'wrong'),
      'content-type': 'text/plain',
    });
    assert.equal(unauth.status, 401);
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"']) {
      const mr = payload('gitlab-merge-request');
      mr.object_attributes.merge_commit_sha = type.length.toString(16).padStart(40, '1');
      assert.equal(
        (await r.post('/hooks/gitlab', json(mr), { ...gitlabHeaders('Merge Request Hook'), 'content-type': type }))
          .status,
        202,
        type,
      );
    }
  });

  it('400 for malformed JSON (after authentication)', async () => {
    for (const body of ['{"object_kind":', '', 'null;', '{"a":1}}', '\u0000']) {
      const res = await r.post('/hooks/gitlab', body, gitlabHeaders('Merge Request Hook'));
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error, 'MalformedPayload');
    }
    assert.equal(
      (await r.post('/hooks/gitlab', '{"object_kind":', gitlabHeaders('Merge Request Hook', 'wrong'))).status,
      401,
    );
  });

  it('422 with the field path for hostile or mistyped values of an event fjord acts on; no job', async () => {
    const before = r.queue.sends;
    const expect422 = async (event: string, body: unknown, path: string) => {
      const res = await r.post('/hooks/gitlab', json(body), gitlabHeaders(event));
      assert.equal(res.status, 422, `${path}: ${json(res.body)}`);
      assert.equal(res.body.error, 'InvalidEvent');
      assert.equal(res.body.path, path);
    };
    for (const bad of HOSTILE) {
      const mr = payload('gitlab-merge-request');
      mr.object_attributes.merge_commit_sha = bad;
      await expect422('Merge Request Hook', mr, 'object_attributes.merge_commit_sha');
    }
    const mistyped = payload('gitlab-merge-request');
    mistyped.object_attributes.iid = '42';
    await expect422('Merge Request Hook', mistyped, 'object_attributes.iid');
    const noProject = payload('gitlab-merge-request');
    noProject.project = { path_with_namespace: 15 };
    await expect422('Merge Request Hook', noProject, 'project.path_with_namespace');
    await expect422('Merge Request Hook', [], '(root)');
    const upper = payload('gitlab-merge-request');
    upper.object_attributes.merge_commit_sha = 'A'.repeat(40);
    await expect422('Merge Request Hook', upper, 'object_attributes.merge_commit_sha');
    assert.equal(r.queue.sends, before);
  });

  it('an author name is data: controls, bidi and line separators are cleaned out and the push still deploys', async () => {
    for (const bad of [...HOSTILE, '\u001b[31m', '\n{"level":"error","msg":"forged"}', '\u2028\u200b']) {
      const push = payload('gitlab-push');
      push.project.path_with_namespace = 'acme/worker';
      push.after = crypto.randomBytes(20).toString('hex');
      push.checkout_sha = push.after;
      push.user_name = `Jane${bad}`;
      const res = await r.post('/hooks/gitlab', json(push), gitlabHeaders('Push Hook'));
      assert.equal(res.status, 202, `${json(bad)}: ${json(res.body)}`);
      const author = r.queue.accepted.at(-1)!.source.author!;
      assert.match(author, /^Jane[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u, json(bad));
      assert.ok([...author].length <= 200, "cut to the grammar's 200 characters");
      if (!/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(bad) && bad.length < 100)
        assert.equal(author, `Jane${bad}`, 'printable text is kept as sent');
    }
  });

  it('422 naming `tag` when the rendered tag breaks the tag grammar', async () => {
    const long = 'b'.repeat(130);
    const s = await startTestReceiver({ config: testConfig((c) => (c.apps.worker.source.branch = long)) });
    try {
      const push = payload('gitlab-push');
      push.project.path_with_namespace = 'acme/worker';
      push.ref = `refs/heads/${long}`;
      const res = await s.post('/hooks/gitlab', json(push), gitlabHeaders('Push Hook'));
      assert.equal(res.status, 422);
      assert.equal(res.body.path, 'tag');
      assert.equal(s.queue.sends, 0);
    } finally {
      await s.close();
    }
  });

  it('a push to a hostile branch name is an "other branch": 200 ignored, never a job', async () => {
    // No configured branch can equal such a name (config branches pass the branch grammar), so the value
    // never reaches a job; answering 4xx would count towards GitLab disabling the hook.
    const before = r.queue.sends;
    for (const bad of HOSTILE) {
      const push = payload('gitlab-push');
      push.project.path_with_namespace = 'acme/worker';
      push.ref = `refs/heads/main${bad}`;
      const res = await r.post('/hooks/gitlab', json(push), gitlabHeaders('Push Hook'));
      assert.equal(res.status, 200, json(res.body));
      assert.match(res.body.ignored, /no environment of app worker deploys branch/);
      assert.ok(!res.body.ignored.includes('\n'));
    }
    assert.equal(r.queue.sends, before);
  });

  it('503 when the queue cannot take the job, so GitLab retries', async () => {
    const s = await startTestReceiver({ queue: failingQueue() });
    try {
      const res = await s.post(
        '/hooks/gitlab',
        json(payload('gitlab-merge-request')),
        gitlabHeaders('Merge Request Hook'),
      );
      assert.equal(res.status, 503);
      assert.equal(res.body.error, 'QueueUnavailable');
      // Ignored events never touch the queue, so they still answer 200.
      assert.equal(
        (await s.post('/hooks/gitlab', json(payload('gitlab-push')), gitlabHeaders('Push Hook'))).status,
        200,
      );
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    } finally {
      await s.close();
    }
  });
});

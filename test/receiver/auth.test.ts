import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../lib/log.js';
import {
  GITHUB_SECRETS,
  GITLAB_TOKENS,
  SIGNING_KEYS,
  githubExample,
  githubHeaders,
  gitlabHeaders,
  payload,
  signedHeaders,
  startTestReceiver,
  testConfig,
  testEnv,
  type TestReceiver,
} from '../fixtures/receiver.js';

const mergeBody = (sha: string) => {
  const mr = payload('gitlab-merge-request');
  mr.object_attributes.merge_commit_sha = sha;
  return JSON.stringify(mr);
};
let n = 0;
const nextSha = () => (++n).toString(16).padStart(40, 'c');

describe('receiver: authentication', () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver();
  });
  after(() => r.close());

  it('accepts both GitLab tokens during rotation, refuses wrong or missing ones', async () => {
    for (const token of GITLAB_TOKENS) {
      assert.equal(
        (await r.post('/hooks/gitlab', mergeBody(nextSha()), gitlabHeaders('Merge Request Hook', token))).status,
        202,
      );
    }
    const before = r.queue.accepted.length;
    for (const token of ['wrong-token', GITLAB_TOKENS[0] + 'x', GITLAB_TOKENS[0].slice(0, -1), '']) {
      const res = await r.post('/hooks/gitlab', mergeBody(nextSha()), gitlabHeaders('Merge Request Hook', token));
      assert.equal(res.status, 401, token);
      assert.equal(res.body.error, 'Unauthorized');
    }
    const { 'x-gitlab-token': _, ...noToken } = gitlabHeaders('Merge Request Hook');
    assert.equal((await r.post('/hooks/gitlab', mergeBody(nextSha()), noToken)).status, 401);
    assert.equal(r.queue.accepted.length, before);
  });

  it('accepts signed webhooks with either signing key; refuses bad, replayed and other-body signatures', async () => {
    for (const key of SIGNING_KEYS) {
      const body = mergeBody(nextSha());
      const res = await r.post('/hooks/gitlab', body, signedHeaders('Merge Request Hook', body, { key }));
      assert.equal(res.status, 202, JSON.stringify(res.body));
    }
    const before = r.queue.accepted.length;
    const body = mergeBody(nextSha());
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Record<string, string>]> = [
      [
        'wrong key',
        signedHeaders('Merge Request Hook', body, { key: 'whsec_' + Buffer.alloc(32, 3).toString('base64') }),
      ],
      ['replayed (10 min old)', signedHeaders('Merge Request Hook', body, { timestamp: now - 600 })],
      ['from the future', signedHeaders('Merge Request Hook', body, { timestamp: now + 600 })],
      ['signature of another body', signedHeaders('Merge Request Hook', mergeBody(nextSha()))],
    ];
    for (const [what, headers] of cases) {
      const res = await r.post('/hooks/gitlab', body, headers);
      assert.equal(res.status, 401, what);
      assert.match(res.body.message, /signed webhook refused/, what);
    }
    // A bad signature is not rescued by a valid token sent alongside: the signature decides.
    const res = await r.post('/hooks/gitlab', body, { ...cases[1]![1], 'x-gitlab-token': GITLAB_TOKENS[0] });
    assert.equal(res.status, 401);
    assert.equal(r.queue.accepted.length, before);
  });

  it('GitHub: accepts both secrets, refuses a wrong or missing signature', async () => {
    const pr = githubExample('pull_request', (e) => e.action === 'closed');
    Object.assign(pr.pull_request, { merged: true, merge_commit_sha: nextSha() });
    const body = JSON.stringify(pr);
    assert.equal(
      (await r.post('/hooks/github', body, githubHeaders('pull_request', body, GITHUB_SECRETS[0]))).status,
      202,
    );
    pr.pull_request.merge_commit_sha = nextSha();
    const body2 = JSON.stringify(pr);
    assert.equal(
      (await r.post('/hooks/github', body2, githubHeaders('pull_request', body2, GITHUB_SECRETS[1]))).status,
      202,
    );
    const before = r.queue.accepted.length;
    assert.equal(
      (await r.post('/hooks/github', body2, githubHeaders('pull_request', body2, 'not-the-secret'))).status,
      401,
    );
    assert.equal(
      (await r.post('/hooks/github', body2, githubHeaders('pull_request', body, GITHUB_SECRETS[0]))).status,
      401,
    );
    const { 'x-hub-signature-256': _, ...unsigned } = githubHeaders('pull_request', body2);
    assert.equal((await r.post('/hooks/github', body2, unsigned)).status, 401);
    assert.equal(r.queue.accepted.length, before);
  });

  it('a source with no secret configured refuses every webhook, and says so at start-up', async () => {
    const lines: string[] = [];
    const s = await startTestReceiver({ env: {}, logger: createLogger({ write: (l) => lines.push(l) }) });
    try {
      const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'warn');
      assert.ok(
        warnings.some((w) =>
          /no GitLab webhook secret configured \(set FJORD_GITLAB_SECRET or FJORD_GITLAB_SIGNING_KEY\)/.test(w.msg),
        ),
        lines.join('\n'),
      );
      assert.ok(
        warnings.some((w) => /no GitHub webhook secret configured \(set FJORD_GITHUB_SECRET\)/.test(w.msg)),
        lines.join('\n'),
      );
      const body = mergeBody(nextSha());
      for (const token of ['', 'anything', GITLAB_TOKENS[0]]) {
        const res = await s.post('/hooks/gitlab', body, gitlabHeaders('Merge Request Hook', token));
        assert.equal(res.status, 401);
        assert.match(res.body.message, /no GitLab webhook secret is configured/);
      }
      assert.equal((await s.post('/hooks/gitlab', body, signedHeaders('Merge Request Hook', body))).status, 401);
      const gh = JSON.stringify({ zen: 'hi' });
      assert.equal((await s.post('/hooks/github', gh, githubHeaders('ping', gh))).status, 401);
      assert.equal(s.queue.sends, 0);
    } finally {
      await s.close();
    }
  });

  it('with only signing keys configured, a token alone is refused', async () => {
    const s = await startTestReceiver({ env: { FJORD_GITLAB_SIGNING_KEY: testEnv.FJORD_GITLAB_SIGNING_KEY } });
    try {
      const body = mergeBody(nextSha());
      const res = await s.post('/hooks/gitlab', body, gitlabHeaders('Merge Request Hook'));
      assert.equal(res.status, 401);
      assert.match(res.body.message, /signed webhook .* is required/);
      assert.equal((await s.post('/hooks/gitlab', body, signedHeaders('Merge Request Hook', body))).status, 202);
    } finally {
      await s.close();
    }
  });

  it('replay window comes from sources.gitlab.replayWindow', async () => {
    const s = await startTestReceiver({ config: testConfig((c) => (c.sources.gitlab.replayWindow = '30s')) });
    try {
      const body = mergeBody(nextSha());
      const old = Math.floor(Date.now() / 1000) - 60;
      assert.equal(
        (await s.post('/hooks/gitlab', body, signedHeaders('Merge Request Hook', body, { timestamp: old }))).status,
        401,
      );
      assert.equal(
        (await r.post('/hooks/gitlab', body, signedHeaders('Merge Request Hook', body, { timestamp: old }))).status,
        202,
      );
    } finally {
      await s.close();
    }
  });
});

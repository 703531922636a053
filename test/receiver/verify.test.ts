import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Secret } from '../../lib/secret.js';
import { InvalidEvent } from '../../lib/errors.js';
import { createGitlabTokenVerifier } from '../../lib/events/verify-gitlab-token.js';
import { createStandardWebhookVerifier, signStandardWebhook } from '../../lib/events/verify-standard-webhook.js';
import { createGithubVerifier } from '../../lib/events/verify-github.js';
import { renderTag } from '../../lib/events/render-tag.js';

const secrets = (...values: string[]) => values.map((v) => new Secret(v));

describe('verify modules', () => {
  it('GitLab token: any configured secret matches, nothing else does', () => {
    const verify = createGitlabTokenVerifier(secrets('old-token-123', 'new-token-456'));
    assert.equal(verify('old-token-123'), true);
    assert.equal(verify('new-token-456'), true);
    for (const bad of [undefined, '', 'old-token-12', 'old-token-1234', 'OLD-TOKEN-123', 'new-token-456 '])
      assert.equal(verify(bad), false, String(bad));
    assert.equal(createGitlabTokenVerifier([])('anything'), false);
  });

  // The spec's published test vector (https://github.com/standard-webhooks/standard-webhooks).
  const vector = {
    key: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
  };
  const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

  it('Standard Webhooks: reproduces and accepts the spec test vector', () => {
    assert.equal(signStandardWebhook(vector.key, vector.id, vector.timestamp, vector.body), expected);
    const verify = createStandardWebhookVerifier(
      secrets('whsec_' + Buffer.alloc(32, 1).toString('base64'), vector.key),
      { replayWindowMs: 300_000 },
    );
    const at = vector.timestamp * 1000;
    const headers = { id: vector.id, timestamp: String(vector.timestamp), signature: expected };
    assert.deepEqual(verify(headers, Buffer.from(vector.body), at + 299_000), { ok: true });
    // Several signatures, one valid (a sender mid-rotation).
    assert.deepEqual(verify({ ...headers, signature: `v1,AAAA ${expected}` }, Buffer.from(vector.body), at), {
      ok: true,
    });
  });

  it('Standard Webhooks: refuses replays, other bodies, other ids and missing headers', () => {
    const verify = createStandardWebhookVerifier(secrets(vector.key), { replayWindowMs: 300_000 });
    const at = vector.timestamp * 1000;
    const headers = { id: vector.id, timestamp: String(vector.timestamp), signature: expected };
    const body = Buffer.from(vector.body);
    const reason = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);
    assert.match(reason(verify(headers, body, at + 301_000))!, /replay window/);
    assert.match(reason(verify(headers, body, at - 301_000))!, /replay window/);
    assert.match(reason(verify(headers, Buffer.from('{"test": 2432232315}'), at))!, /does not match/);
    assert.match(reason(verify({ ...headers, id: 'msg_other' }, body, at))!, /does not match/);
    assert.match(
      reason(verify({ ...headers, signature: expected.replace('v1,', 'v2,') }, body, at))!,
      /does not match/,
    );
    assert.match(reason(verify({ ...headers, signature: undefined }, body, at))!, /required/);
    assert.match(reason(verify({ ...headers, timestamp: '1614265330.5' }, body, at))!, /malformed/);
    assert.match(
      reason(createStandardWebhookVerifier([], { replayWindowMs: 1 })(headers, body, at))!,
      /no signing key/,
    );
  });

  it('GitHub: X-Hub-Signature-256 with any configured secret', async () => {
    const verify = createGithubVerifier(secrets('gh-secret-one', 'gh-secret-two'));
    const body = '{"zen":"Keep it logically awesome."}';
    const sig = (secret: string, text = body) => 'sha256=' + createHmac('sha256', secret).update(text).digest('hex');
    assert.equal(await verify(body, sig('gh-secret-one')), true);
    assert.equal(await verify(body, sig('gh-secret-two')), true);
    assert.equal(await verify(body, sig('gh-secret-three')), false);
    assert.equal(await verify(body, sig('gh-secret-one', body + ' ')), false);
    assert.equal(await verify(body, undefined), false);
    assert.equal(await verify(body, 'sha1=' + sig('gh-secret-one').slice(7)), false);
    assert.equal(await verify('', sig('gh-secret-one', '')), false);
    assert.equal(await createGithubVerifier([])(body, sig('gh-secret-one')), false);
  });

  it('renders tag templates and holds the result to the tag grammar', () => {
    const sha = '0123456789abcdef0123456789abcdef01234567';
    assert.equal(renderTag('{shortSha}', { sha, branch: 'main' }), '01234567');
    assert.equal(renderTag('{branch}-{sha}', { sha, branch: 'feature/a/b' }), `feature-a-b-${sha}`);
    assert.equal(renderTag('v{mr}', { sha, branch: 'main', mr: 7 }), 'v7');
    assert.throws(
      () => renderTag('v{mr}', { sha, branch: 'main' }),
      (e: unknown) => e instanceof InvalidEvent && e.path === 'tag' && /no merge request/.test(e.message),
    );
    assert.throws(
      () => renderTag('{branch}', { sha, branch: 'x'.repeat(129) }),
      (e: unknown) => e instanceof InvalidEvent && e.path === 'tag',
    );
  });
});

/**
 * Issue 12, item 4: a webhook secret per app. Whoever holds one project's hook secret can deploy that
 * project's apps and no other; the provider's shared secret speaks only for apps without one of their own
 * (and a start-up warning says which those are). Rotation lists are one secret per line, so a secret with
 * a comma stays whole; secrets shorter than 16 characters stop the start-up. Real Node receiver over HTTP.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { ConfigError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';
import {
  GITHUB_SECRETS,
  GITLAB_TOKENS,
  githubExample,
  githubHeaders,
  gitlabHeaders,
  payload,
  startTestReceiver,
  testConfig,
  testEnv,
} from '../fixtures/receiver.js';
import { stringify } from 'yaml';

const API_SECRET = 'api-own-hook-secret-7d1e4b';
const WEB_SECRET = 'web-own-hook-secret-2a9c5f';
const json = (v: unknown) => JSON.stringify(v);
let n = 0;
const nextSha = () => (++n).toString(16).padStart(40, 'a');
const merge = () => {
  const mr = payload('gitlab-merge-request');
  mr.object_attributes.merge_commit_sha = nextSha();
  return json(mr);
};
const workerPush = () => {
  const push = payload('gitlab-push');
  push.project.path_with_namespace = 'acme/worker';
  push.after = push.checkout_sha = nextSha();
  return json(push);
};
const githubMerge = () => {
  const pr = githubExample('pull_request', (e) => e.action === 'closed');
  Object.assign(pr.pull_request, { merged: true, merge_commit_sha: nextSha(), merged_by: pr.sender });
  return json(pr);
};
const ownSecrets = testConfig((c) => {
  c.apps.api.source.webhookSecretEnv = 'API_HOOK_SECRET';
  c.apps.web.source.webhookSecretEnv = 'WEB_HOOK_SECRET';
});
const ownEnv = { ...testEnv, API_HOOK_SECRET: API_SECRET, WEB_HOOK_SECRET: WEB_SECRET };

describe('receiver: per-app webhook secrets', () => {
  it("an app's own secret deploys that app only; the shared secret no longer deploys it", async () => {
    const r = await startTestReceiver({ config: ownSecrets, env: ownEnv });
    try {
      assert.equal(
        (await r.post('/hooks/gitlab', merge(), gitlabHeaders('Merge Request Hook', API_SECRET))).status,
        202,
      );
      const shared = await r.post('/hooks/gitlab', merge(), gitlabHeaders('Merge Request Hook', GITLAB_TOKENS[0]));
      assert.equal(shared.status, 401);
      assert.match(
        shared.body.message,
        /app api takes only its own webhook secret \(apps\.api\.source\.webhookSecretEnv\)/,
      );
      // api's secret cannot deploy worker, which takes the shared one.
      const other = await r.post('/hooks/gitlab', workerPush(), gitlabHeaders('Push Hook', API_SECRET));
      assert.equal(other.status, 401, json(other.body));
      assert.match(other.body.message, /app worker takes the shared webhook secret/);
      assert.equal(
        (await r.post('/hooks/gitlab', workerPush(), gitlabHeaders('Push Hook', GITLAB_TOKENS[1]))).status,
        202,
      );
      // GitHub the same way, with the signature's secret.
      const gh = githubMerge();
      assert.equal(
        (await r.post('/hooks/github', gh, githubHeaders('pull_request', gh, GITHUB_SECRETS[0]))).status,
        401,
      );
      assert.equal((await r.post('/hooks/github', gh, githubHeaders('pull_request', gh, API_SECRET))).status, 401);
      assert.equal((await r.post('/hooks/github', gh, githubHeaders('pull_request', gh, WEB_SECRET))).status, 202);
      assert.deepEqual(
        r.queue.accepted.map((j) => j.app),
        ['api', 'worker', 'web'],
      );
      // Nothing else is opened up: a wrong token is still refused before anything else.
      assert.equal(
        (await r.post('/hooks/gitlab', merge(), gitlabHeaders('Merge Request Hook', 'w'.repeat(26)))).status,
        401,
      );
    } finally {
      await r.close();
    }
  });

  it('start-up warns for every app that takes the shared secret, and for an own secret that is not set', async () => {
    const lines: string[] = [];
    const r = await startTestReceiver({
      config: ownSecrets,
      env: { ...testEnv, API_HOOK_SECRET: API_SECRET },
      logger: createLogger({ write: (l) => lines.push(l) }),
    });
    try {
      const warnings = lines
        .map((l) => JSON.parse(l))
        .filter((l) => l.level === 'warn')
        .map((l) => l.msg as string);
      for (const app of ['worker', 'jobs']) {
        assert.ok(
          warnings.some(
            (w) =>
              w.startsWith(`app ${app} has no webhook secret of its own and takes the shared gitlab secret`) &&
              w.includes(`apps.${app}.source.webhookSecretEnv`),
          ),
          warnings.join('\n'),
        );
      }
      assert.ok(!warnings.some((w) => w.startsWith('app api has no')), warnings.join('\n'));
      assert.ok(
        warnings.some((w) => /app web: WEB_HOOK_SECRET .* is not set/.test(w)),
        warnings.join('\n'),
      );
      // Fail closed: web names its own secret, which is unset, so the shared one does not stand in.
      const gh = githubMerge();
      assert.equal(
        (await r.post('/hooks/github', gh, githubHeaders('pull_request', gh, GITHUB_SECRETS[0]))).status,
        401,
      );
    } finally {
      await r.close();
    }
  });

  it('a rotation list is one secret per line; a comma is part of a secret, never a separator', async () => {
    const lines: string[] = [];
    const withComma = 'new-secret,with-a-comma-81f3';
    const r = await startTestReceiver({
      env: { ...testEnv, FJORD_GITLAB_SECRET: `${withComma}\n  old-secret-6c02e9aa41  \n` },
      logger: createLogger({ write: (l) => lines.push(l) }),
    });
    try {
      for (const token of [withComma, 'old-secret-6c02e9aa41']) {
        assert.equal(
          (await r.post('/hooks/gitlab', merge(), gitlabHeaders('Merge Request Hook', token))).status,
          202,
          token,
        );
      }
      for (const piece of ['new-secret', 'with-a-comma-81f3']) {
        assert.equal(
          (await r.post('/hooks/gitlab', merge(), gitlabHeaders('Merge Request Hook', piece))).status,
          401,
          piece,
        );
      }
      assert.ok(
        lines.some((l) => l.includes('FJORD_GITLAB_SECRET holds a comma: it is read as one secret')),
        lines.join('\n'),
      );
      assert.ok(!lines.some((l) => l.includes(withComma)), 'the secret itself is never logged');
    } finally {
      await r.close();
    }
  });

  it('a secret shorter than 16 characters stops the start-up, naming setting and variable, never the value', async () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [
        { ...testEnv, FJORD_GITLAB_SECRET: 'short-secret-15' },
        /sources\.gitlab\.webhookSecretEnv: FJORD_GITLAB_SECRET holds a secret shorter than 16 characters/,
      ],
      [
        { ...testEnv, FJORD_GITHUB_SECRET: `${GITHUB_SECRETS[0]}\nshort` },
        /sources\.github\.webhookSecretEnv: line 2 of FJORD_GITHUB_SECRET holds a secret shorter than 16/,
      ],
      [
        { ...ownEnv, API_HOOK_SECRET: 'tiny' },
        /apps\.api\.source\.webhookSecretEnv: API_HOOK_SECRET holds a secret shorter than 16/,
      ],
    ];
    for (const [env, message] of cases) {
      await assert.rejects(startTestReceiver({ config: ownSecrets, env }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        for (const value of ['short-secret-15', 'short', 'tiny'])
          assert.ok(!err.message.includes(`${value} `) && !err.message.endsWith(value));
        return true;
      });
    }
    // 16 is enough.
    const r = await startTestReceiver({ env: { ...testEnv, FJORD_GITLAB_SECRET: 'sixteen-chars-ok' } });
    await r.close();
  });

  it('apps of one project must name the same webhook secret: one project has one hook', () => {
    const input = (secret?: string) => ({
      sources: { gitlab: {} },
      manifest: { repository: './m.git' },
      apps: {
        a: {
          source: { project: 'acme/mono', webhookSecretEnv: 'MONO_SECRET' },
          image: 'acme/a',
          environments: { prod: { manifest: { file: 'a.yaml' } } },
        },
        b: {
          source: { project: 'acme/mono', ...(secret ? { webhookSecretEnv: secret } : {}) },
          image: 'acme/b',
          environments: { prod: { manifest: { file: 'b.yaml' } } },
        },
      },
    });
    assert.throws(
      () => parseConfig(stringify(input())),
      /apps\.b\.source\.webhookSecretEnv: app a has the same source project with webhookSecretEnv MONO_SECRET/,
    );
    assert.throws(() => parseConfig(stringify(input('OTHER'))), /apps\.b\.source\.webhookSecretEnv/);
    assert.doesNotThrow(() => parseConfig(stringify(input('MONO_SECRET'))));
  });
});

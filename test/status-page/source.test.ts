/**
 * The status page's data and route: the short cache (one check per TTL, shared by concurrent requests,
 * the previous view while a slow check runs), failures shown rather than thrown, the GitLab links from
 * fjord.yaml, the token (401 without, 200 with, never logged), and serverless receivers' `GET /` pointer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { createReceiver, NO_STATUS_PAGE } from '../../lib/receiver/app.js';
import type { ReceiverEnv } from '../../lib/receiver/env.js';
import type { DriftReport } from '../../lib/reconcile/drift.js';
import { createLogger } from '../../lib/log.js';
import { Secret } from '../../lib/secret.js';
import { cachedStatusSource } from '../../lib/status-page/cached-source.js';
import { gitlabLinks } from '../../lib/status-page/gitlab-links.js';
import { statusRoute } from '../../lib/status-page/status-route.js';
import { makeTestQueue, testConfig } from '../fixtures/receiver.js';

const report = (checkedAt: string): DriftReport => ({ inSync: true, checkedAt, environments: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cachedStatusSource', () => {
  it('checks once per TTL, shares a check between concurrent requests, and checks again when it expires', async () => {
    let t = 1_000_000;
    let checks = 0;
    const source = cachedStatusSource({
      check: async () => report(`check-${++checks}`),
      deploys: async () => [],
      ttlMs: 10_000,
      now: () => t,
    });
    const [a, b] = await Promise.all([source(), source()]);
    assert.equal(checks, 1);
    assert.equal(a.report!.checkedAt, 'check-1');
    assert.equal(b.report!.checkedAt, 'check-1');
    t += 9_000;
    assert.equal((await source()).report!.checkedAt, 'check-1');
    assert.equal((await source()).generatedAt, new Date(t).toISOString(), 'served time, not check time');
    t += 2_000;
    assert.equal((await source()).report!.checkedAt, 'check-2');
    assert.equal(checks, 2);
  });

  it('serves the previous view, marked refreshing, when a new check is slow; then the new one', async () => {
    let t = 0;
    let release: () => void = () => {};
    let checks = 0;
    const source = cachedStatusSource({
      check: async () => {
        if (++checks === 2) await new Promise<void>((r) => (release = r));
        return report(`check-${checks}`);
      },
      deploys: async () => [],
      ttlMs: 1_000,
      waitMs: 50,
      now: () => t,
    });
    assert.equal((await source()).report!.checkedAt, 'check-1');
    t += 5_000;
    const started = Date.now();
    const stale = await source();
    assert.ok(Date.now() - started < 1_000);
    assert.deepEqual([stale.report!.checkedAt, stale.refreshing], ['check-1', true]);
    release();
    await sleep(10);
    const fresh = await source();
    assert.deepEqual([fresh.report!.checkedAt, fresh.refreshing], ['check-2', undefined]);
    assert.equal(checks, 2);
  });

  it('answers the first request after firstWaitMs even when the first check hangs', async () => {
    let release: () => void = () => {};
    const source = cachedStatusSource({
      check: () => new Promise((r) => (release = () => r(report('late')))),
      deploys: async () => [],
      firstWaitMs: 50,
    });
    const first = await source();
    assert.deepEqual([first.report, first.error, first.refreshing], [undefined, undefined, true]);
    release();
    await sleep(10);
    assert.equal((await source()).report!.checkedAt, 'late');
  });

  it('turns a failed check or history into a message on the view', async () => {
    const key = new Secret('hunter2-secret-value');
    const source = cachedStatusSource({
      check: async () => {
        throw new TypeError(`no key ${key.reveal()}`);
      },
      deploys: async () => {
        throw new Error('git fetch failed');
      },
    });
    const view = await source();
    assert.equal(view.report, undefined);
    assert.equal(view.error, 'TypeError: no key [redacted]');
    assert.equal(view.deploysError, 'Error: git fetch failed');
  });
});

describe('gitlabLinks', () => {
  const sha = 'b'.repeat(40);
  it('links the manifest commit on a gitlab backend, and source commits and MRs of GitLab apps', () => {
    const config = testConfig((c) => {
      c.sources.gitlab.url = 'https://gitlab.example.com/';
      Object.assign(c.manifest, { backend: 'gitlab', project: 'ops/manifests', repository: undefined });
    });
    const links = gitlabLinks(config)(sha, { 'Fjord-Source': `acme/api@${'c'.repeat(40)}`, 'Fjord-MR': 'acme/api!7' });
    assert.deepEqual(links, {
      commitUrl: `https://gitlab.example.com/ops/manifests/-/commit/${sha}`,
      sourceUrl: `https://gitlab.example.com/acme/api/-/commit/${'c'.repeat(40)}`,
      mrUrl: 'https://gitlab.example.com/acme/api/-/merge_requests/7',
    });
    // A GitHub app, an unknown project, or a value off the grammar: no link.
    assert.deepEqual(
      gitlabLinks(config)(sha, { 'Fjord-Source': `Codertocat/Hello-World@${sha}`, 'Fjord-MR': 'acme/other!7' }),
      { commitUrl: links.commitUrl },
    );
    assert.deepEqual(
      gitlabLinks(config)('not-hex', { 'Fjord-Source': 'acme/api@javascript:alert(1)', 'Fjord-MR': 'acme/api!7"' }),
      {},
    );
  });

  it('links no manifest commit on the git backend', () => {
    assert.equal(gitlabLinks(testConfig())(sha, {}).commitUrl, undefined);
  });
});

describe('GET /', () => {
  const page = async () => ({
    generatedAt: new Date().toISOString(),
    deploys: [],
    report: report(new Date().toISOString()),
  });

  it('with a token: 401 without it or with a wrong one, 200 with Bearer or ?token=, the token never logged', async () => {
    const lines: string[] = [];
    const token = 'st-7f3c9a1e5b2d8046';
    const app = new Hono<ReceiverEnv>().get(
      '/',
      statusRoute({ source: page, token: new Secret(token), logger: createLogger({ write: (l) => lines.push(l) }) }),
    );
    const no = await app.request('/');
    assert.equal(no.status, 401);
    assert.match(no.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.doesNotMatch(await no.text(), /<html/);
    assert.equal((await app.request('/?token=guess-91x')).status, 401);
    assert.equal((await app.request('/', { headers: { authorization: `Bearer ${token}x` } })).status, 401);
    assert.equal((await app.request('/', { headers: { authorization: `Basic ${token}` } })).status, 401);
    const bearer = await app.request('/', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(bearer.status, 200);
    assert.match(bearer.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(bearer.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(bearer.headers.get('referrer-policy'), 'no-referrer');
    assert.match(await bearer.text(), /fjord status/);
    assert.equal((await app.request(`/?token=${token}`)).status, 200);
    assert.equal(lines.length, 4, 'one warning per refusal');
    assert.ok(
      lines.every((l) => !l.includes(token) && !l.includes('guess-91x')),
      lines.join('\n'),
    );
  });

  it('without a token: open', async () => {
    const app = new Hono<ReceiverEnv>().get(
      '/',
      statusRoute({ source: page, logger: createLogger({ write: () => {} }) }),
    );
    assert.equal((await app.request('/')).status, 200);
  });

  it('a receiver without a status page (Lambda, Workers) points to fjord status; /healthz unchanged', async () => {
    const queue = await makeTestQueue();
    try {
      const app = createReceiver({
        config: testConfig(),
        secrets: { gitlabTokens: [], gitlabSigningKeys: [], githubSecrets: [] },
        queue,
        logger: createLogger({ write: () => {} }),
      });
      const res = await app.request('/');
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { message: NO_STATUS_PAGE });
      assert.match(NO_STATUS_PAGE, /fjord status/);
      assert.deepEqual(await (await app.request('/healthz')).json(), { ok: true });
    } finally {
      await queue.close();
    }
  });
});

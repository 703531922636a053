/**
 * The chat webhook against a real HTTP server on 127.0.0.1: one JSON POST per finished job with the
 * expected Slack text; a receiver that answers 500, hangs or is gone never fails the deploy nor holds it
 * past the timeout; and the URL (a secret: its path is the token) never reaches a log line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { createLogger } from '../../lib/log.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { linksFromConfig } from '../../lib/notify/links.js';
import { silentNotifier } from '../../lib/notify/notifier.js';
import { WebhookNotifier } from '../../lib/notify/webhook.js';
import { Secret } from '../../lib/secret.js';
import { makeDeployHandler } from '../../lib/worker/make-handler.js';
import { startChatWebhook, type ChatWebhook } from '../fixtures/chat-webhook.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';
import { makeJob } from '../fixtures/jobs.js';

const yaml = (repo: string) =>
  oneAppConfigYaml({
    repository: repo,
    sources: '{ gitlab: { url: "https://gitlab.example.com" } }',
    extra: 'notify: { webhookUrlEnv: CHAT_URL }',
  });

describe('chat webhook', () => {
  let chat: ChatWebhook;
  let repo: TestRepo;
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const config = () => parseConfig(yaml(repo.bare));
  const notifier = (url: string, timeoutMs?: number) =>
    new WebhookNotifier({
      url: new Secret(url),
      logger,
      links: linksFromConfig(config()),
      ...(timeoutMs ? { timeoutMs } : {}),
    });
  const warnings = () =>
    lines
      .map((l) => JSON.parse(l) as { level: string; msg: string; what?: string; error?: string })
      .filter((l) => l.level === 'warn');

  before(async () => {
    chat = await startChatWebhook();
    repo = createBareRepo({ 'api/prod.yaml': 'image:\n  tag: v1\n' });
  });
  after(async () => {
    await chat?.close();
    repo?.cleanup();
    const all = lines.join('\n');
    assert.ok(!all.includes(chat.token), 'the webhook token was logged');
  });

  it('posts one JSON message with outcome, app → environment, image:tag, MR link, manifest commit', async () => {
    chat.mode = 'ok';
    chat.requests.length = 0;
    const job = makeJob({ n: 7, tag: 'v7' });
    await notifier(chat.url).jobFinished(job, {
      status: 'deployed',
      detail: 'prod at v7 · 2/2 host(s) updated',
      commitId: 'abcdef0123456789abcdef0123456789abcdef01',
    });
    assert.equal(chat.requests.length, 1);
    const [req] = chat.requests;
    assert.deepEqual(
      [req!.method, req!.path, req!.contentType],
      ['POST', `/services/T0FJORD/B0FJORD/${chat.token}`, 'application/json'],
    );
    assert.deepEqual(JSON.parse(req!.body), {
      text:
        ':white_check_mark: *deployed* · `api` → *prod* · `registry.example.com/acme/api:v7`\n' +
        'MR <https://gitlab.example.com/acme/api/-/merge_requests/7|acme/api!7> · manifest commit `abcdef012345`\n' +
        'prod at v7 · 2/2 host(s) updated',
    });
    assert.deepEqual(warnings(), []);
  });

  it('escapes what Slack treats as markup, and names the failing host and step', async () => {
    chat.requests.length = 0;
    const job = makeJob({ n: 8, tag: 'v8' });
    const rollout = {
      ok: false,
      hosts: [],
      durationMs: 1,
      failed: {
        host: 'web-2',
        step: 'health',
        message: 'expected <200> & got 500',
        errorName: 'HealthCheckFailed',
        stderrTail: '',
      },
    };
    await notifier(chat.url).jobFinished(job, {
      status: 'failed',
      detail: 'x',
      rollout,
      rollbackCommitId: 'f'.repeat(40),
      previousTag: 'v7',
    });
    const { text } = JSON.parse(chat.requests[0]!.body) as { text: string };
    assert.match(text, /^:x: \*failed\* · /);
    assert.ok(
      text.includes(
        '\nfailed on `web-2` at `health`: expected &lt;200&gt; &amp; got 500\nhosts and manifest are back on `v7`',
      ),
      text,
    );
  });

  it('a 500, a hang past the timeout, or nobody listening: a warning without the URL, never a throw', async () => {
    lines.length = 0;
    chat.mode = 'error';
    await notifier(chat.url).jobFinished(makeJob(), { status: 'deployed' });
    chat.mode = 'hang';
    const started = Date.now();
    await notifier(chat.url, 400).jobFinished(makeJob(), { status: 'deployed' });
    const waited = Date.now() - started;
    assert.ok(waited >= 350 && waited < 2_000, `bounded by the timeout (${waited} ms)`);
    const gone = await startChatWebhook({ token: chat.token });
    await gone.close();
    await notifier(gone.url).jobFinished(makeJob(), { status: 'failed' });
    // fetch's own message would quote this URL ("Failed to parse URL from http://…"): it is never logged.
    await notifier(`http://127.0.0.1:99999/x/${chat.token}`).jobFinished(makeJob(), { status: 'failed' });
    assert.deepEqual(
      warnings().map((w) => [w.msg, w.what, w.error]),
      [
        ['notification failed', 'chat webhook', 'HTTP 500'],
        ['notification failed', 'chat webhook', 'no answer within 400 ms'],
        ['notification failed', 'chat webhook', 'TypeError (ECONNREFUSED)'],
        ['notification failed', 'chat webhook', 'TypeError (ERR_INVALID_URL)'],
      ],
    );
    assert.ok(!lines.join('\n').includes(chat.token));
  });

  it('through the deploy handler: a hanging webhook holds the job at most the 5 s default, a 500 not at all; both deploy', async () => {
    const env = { CHAT_URL: chat.url };
    const handle = makeDeployHandler({
      config: config(),
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-chat-')),
      env,
      notifier: createNotifier(config(), { env, logger }),
    });
    const ctx = { heartbeat: async () => {}, attempts: 1, logger, signal: new AbortController().signal };
    // A 500 first: it must not hold the job, and its time is this machine's time for the job itself (the
    // bound on the hang below comes from it, not from a guess that a loaded box runs out of).
    chat.mode = 'error';
    let started = Date.now();
    const errored = await handle(makeJob({ n: 2, id: 'job-chat-500-2' }), ctx);
    const jobMs = Date.now() - started;
    assert.equal(errored.status, 'deployed', errored.detail);
    chat.mode = 'hang';
    started = Date.now();
    const hung = await handle(makeJob({ n: 3, id: 'job-chat-hang-3' }), ctx);
    const hangMs = Date.now() - started;
    assert.equal(hung.status, 'deployed', hung.detail);
    assert.ok(
      hangMs >= 4_900 && hangMs < 5_000 + 2 * jobMs + 1_000,
      `held for the 5 s timeout, no longer (${hangMs} ms; the job itself took ${jobMs} ms)`,
    );
    assert.ok(jobMs < hangMs - 4_000, `the 500 held the job (${jobMs} ms against ${hangMs} ms for the hang)`);
    assert.match(repo.git(['show', 'main:api/prod.yaml']), /tag: v3/);
  });

  it('from fjord.yaml: an unset or non-http variable turns chat off with a warning naming the variable, not its value', () => {
    lines.length = 0;
    assert.equal(createNotifier(config(), { env: {}, logger }), silentNotifier);
    createNotifier(config(), { env: { CHAT_URL: 'ftp://chat.example.com/very-secret-token-1234' }, logger });
    assert.deepEqual(
      warnings().map((w) => [w.msg, (w as { variable?: string }).variable]),
      [
        ['chat webhook off: URL variable not set', 'CHAT_URL'],
        ['chat webhook off: variable does not hold an http(s) URL', 'CHAT_URL'],
      ],
    );
    assert.ok(!lines.join('\n').includes('very-secret-token-1234'));
  });
});

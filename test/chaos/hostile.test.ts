/**
 * Issue 6, item 4 — hostile input. A seeded corpus of 10,000+ requests (hostile-corpus.ts) goes as raw
 * HTTP/1.1 to the real Node receiver running in a child process with the embedded durable queue. Checks:
 * no 5xx, the process never dies (a crash ends it: it has no exception handler), no job queued from a
 * request that is unauthenticated or carries an invalid value (every job left in the queue, read back
 * from its directory, traces to a 202 answer of a request that may queue), memory flat after GC, and
 * secret comparison in constant time: by construction (every compare goes through timingSafeEqual on
 * equal-length digests) and, coarsely, by timing.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGithubVerifier } from '../../lib/events/verify-github.js';
import { createGitlabTokenVerifier } from '../../lib/events/verify-gitlab-token.js';
import { createStandardWebhookVerifier, signStandardWebhook } from '../../lib/events/verify-standard-webhook.js';
import { CLOCK_SKEW_MS } from '../../lib/events/clamp-time.js';
import { deployJobSchema } from '../../lib/job.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import { Secret } from '../../lib/secret.js';
import { bases, HOSTILE, rawExchange } from '../fixtures/fuzz-cases.js';
import { queueKeyFromEnv } from '../../lib/queue/queue-key.js';
import { prng } from '../fixtures/prng.js';
import {
  GITHUB_SECRETS,
  GITLAB_TOKENS,
  githubHeaders,
  gitlabHeaders,
  payload,
  send as sendOne,
  SIGNING_KEYS,
} from '../fixtures/receiver.js';
import { captureText, declareSecrets, recordFigures } from './figures.js';
import { hostileCorpus, type HostileCase } from './hostile-corpus.js';
import { makeJob, testQueueKey } from '../fixtures/jobs.js';
import { startChild } from './receiver-process.js';

const RUNS = Number(process.env.FJORD_HOSTILE_RUNS ?? 10_000);
const SEED = Number(process.env.FJORD_HOSTILE_SEED ?? 20261124);
const CONCURRENCY = 4;
const MB = 1024 * 1024;
declareSecrets(...GITLAB_TOKENS, ...SIGNING_KEYS, ...GITHUB_SECRETS);

/** A POST on a kept-alive connection: its time is the server's work plus one loopback round trip. */
function timedPost(
  agent: Agent,
  port: number,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/hooks/gitlab',
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('chaos: hostile input', () => {
  const queueDir = mkdtempSync(join(tmpdir(), 'fjord-hostile-'));
  let child: Awaited<ReturnType<typeof startChild>>;
  before(async () => {
    // A 1 MiB limit keeps the corpus' over-the-limit bodies cheap (the 25 MiB default: hostile-connections.test.ts).
    child = await startChild(queueDir, { maxBodyBytes: MB });
    child.watch();
  });
  after(async () => {
    await child?.stop();
    rmSync(queueDir, { recursive: true, force: true });
  });

  it('every secret comparison is timingSafeEqual over equal lengths, one per configured secret, no early exit', async () => {
    const original = crypto.timingSafeEqual;
    const calls: Array<[number, number]> = [];
    crypto.timingSafeEqual = (a, b) => {
      calls.push([a.byteLength, b.byteLength]);
      return original(a, b);
    };
    syncBuiltinESMExports(); // named imports of node:crypto (ours and @octokit's) now see the spy
    try {
      const tokens = createGitlabTokenVerifier(GITLAB_TOKENS.map((t) => new Secret(t)));
      for (const given of [
        'x',
        GITLAB_TOKENS[0].slice(0, -1) + 'x',
        'y'.repeat(5000),
        GITLAB_TOKENS[0],
        GITLAB_TOKENS[1],
      ]) {
        calls.length = 0;
        tokens(given);
        assert.deepEqual(
          calls,
          [
            [32, 32],
            [32, 32],
          ],
          `token ${given.slice(0, 20)}`,
        );
      }
      const signed = createStandardWebhookVerifier(
        SIGNING_KEYS.map((k) => new Secret(k)),
        { replayWindowMs: 300_000 },
      );
      const now = Date.now();
      const ts = String(Math.floor(now / 1000));
      for (const signature of [
        signStandardWebhook(SIGNING_KEYS[1], 'm', Number(ts), 'body'),
        signStandardWebhook('whsec_' + Buffer.alloc(32, 3).toString('base64'), 'm', Number(ts), 'body'),
      ]) {
        calls.length = 0;
        signed({ id: 'm', timestamp: ts, signature }, Buffer.from('body'), now);
        assert.deepEqual(calls, [
          [32, 32],
          [32, 32],
        ]);
      }
      const github = createGithubVerifier(GITHUB_SECRETS.map((s) => new Secret(s)));
      calls.length = 0;
      await github('{"a":1}', 'sha256=' + '0'.repeat(64));
      assert.deepEqual(calls, [
        [71, 71],
        [71, 71],
      ]);
    } finally {
      crypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    }
    // And no secret is compared any other way where webhooks are authenticated.
    for (const file of [
      'lib/events/verify-gitlab-token.ts',
      'lib/events/verify-standard-webhook.ts',
      'lib/events/verify-github.ts',
      'lib/receiver/authenticate.ts',
    ]) {
      const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      for (const line of source.split('\n'))
        if (line.includes('reveal()'))
          assert.doesNotMatch(
            line,
            /[!=]==|\.includes\(|\.startsWith\(|\.endsWith\(|\.indexOf\(/,
            `${file}: ${line.trim()}`,
          );
    }
  });

  it('a wrong token with a long correct prefix is not measurably faster or slower to refuse than a wholly wrong one', async () => {
    const body = JSON.stringify(payload('gitlab-merge-request'));
    const token = GITLAB_TOKENS[0];
    const guesses = { prefix: token.slice(0, -1) + (token.endsWith('x') ? 'y' : 'x'), wrong: 'z'.repeat(token.length) };
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const times = { prefix: [] as number[], wrong: [] as number[] };
    try {
      for (let round = 0; round < 400; round++) {
        for (const kind of round % 2 ? (['prefix', 'wrong'] as const) : (['wrong', 'prefix'] as const)) {
          const { status, ms } = await timedPost(
            agent,
            child.port,
            gitlabHeaders('Merge Request Hook', guesses[kind]),
            body,
          );
          assert.equal(status, 401);
          if (round >= 50) times[kind].push(ms); // after warm-up
        }
      }
    } finally {
      agent.destroy();
    }
    const [p, w] = [median(times.prefix), median(times.wrong)];
    captureText(JSON.stringify({ timing: { prefixMedianMs: p, wrongMedianMs: w } }));
    // Generous on purpose (a loaded 2-core box): only a gross difference fails.
    assert.ok(
      Math.abs(p - w) <= Math.max(1, 0.5 * Math.min(p, w)),
      `median ${p.toFixed(3)} ms (prefix) vs ${w.toFixed(3)} ms (wrong)`,
    );

    // In process, without the network's noise: the verifier alone, over a long secret.
    const secret = 's'.repeat(4096);
    const verify = createGitlabTokenVerifier([new Secret(secret)]);
    const batch = (given: string) => {
      const t = performance.now();
      for (let k = 0; k < 2000; k++) verify(given);
      return performance.now() - t;
    };
    const local = { prefix: [] as number[], wrong: [] as number[] };
    for (let round = 0; round < 30; round++) {
      local.prefix.push(batch(secret.slice(0, -1) + 't'));
      local.wrong.push(batch('t'.repeat(secret.length)));
    }
    const ratio = median(local.prefix) / median(local.wrong);
    assert.ok(ratio > 0.5 && ratio < 2, `in-process ratio ${ratio.toFixed(2)}`);
  });

  it(`${RUNS} generated requests (seed ${SEED}): no 5xx, no crash, no job from an invalid request, memory flat`, async () => {
    const rng = prng(SEED);
    const corpus = hostileCorpus(rng, RUNS);
    const mayQueue = new Set<string>();
    const statuses = new Map<number, number>();
    const families = new Map<string, number>();
    const bad = { fiveXx: [] as string[], noAnswer: [] as string[], fromInvalid: [] as string[] };
    let sent = 0;
    const runCase = async (c: HostileCase, i: number) => {
      const answer = await rawExchange(child.port, c);
      sent++;
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      families.set(c.family, (families.get(c.family) ?? 0) + 1);
      captureText(typeof answer.body === 'string' ? answer.body.slice(0, 2000) : JSON.stringify(answer.body));
      const what = `case ${i} (seed ${SEED}) ${c.family}: ${c.what} → ${answer.status}`;
      if (answer.status >= 500) bad.fiveXx.push(what);
      if (answer.status === 0) bad.noAnswer.push(what);
      const queued =
        answer.status === 202
          ? ((answer.body as { queued?: Array<{ id: string; duplicate?: true }> }).queued ?? [])
          : [];
      if (c.expect === 'none' && answer.status === 202) bad.fromInvalid.push(what);
      else for (const q of queued) if (!q.duplicate) mayQueue.add(q.id);
    };
    let i = 0;
    const drain = async (limit: number) => {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (i < limit) {
            const n = i++;
            const next = corpus.next();
            if (next.done) return;
            await runCase(next.value, n);
          }
        }),
      );
    };
    // Warm up (JIT, pools, the queue's journal) before the first memory sample.
    await drain(Math.min(1000, RUNS));
    const start = await child.memory();
    await drain(RUNS);
    const end = await child.memory();

    // The queue as it is on disk, read with the receiver stopped (the last test of this file): every job
    // traces to a 202 answer of a request that may queue.
    await child.stop();
    const queue = await createLocalQueue({ key: testQueueKey(), dir: queueDir });
    const jobs = queue.list().map((e) => e.job);
    await queue.close();
    const untraced = jobs.filter((j) => !mayQueue.has(j.id));
    const invalidJobs = jobs.filter((j) => !deployJobSchema.safeParse(j).success);
    const crashes = child.crash ? 1 : 0;
    const jobsFromInvalid = bad.fromInvalid.length + untraced.length + invalidJobs.length;
    const growth = { heapMB: (end.heapUsed - start.heapUsed) / MB, rssMB: (end.rss - start.rss) / MB };
    const summary = {
      sent,
      statuses: Object.fromEntries(statuses),
      families: Object.fromEntries(families),
      jobs: jobs.length,
      growth,
    };
    captureText(JSON.stringify({ hostile: summary }));
    recordFigures({
      hostile: sent,
      hostile5xx: bad.fiveXx.length,
      crashes: crashes + bad.noAnswer.length,
      jobsFromInvalid,
    });

    const what = JSON.stringify(summary);
    assert.equal(crashes, 0, `the receiver process died: ${JSON.stringify(child.crash)}`);
    assert.deepEqual(bad.fiveXx.slice(0, 10), [], what);
    assert.deepEqual(bad.noAnswer.slice(0, 10), [], what);
    assert.deepEqual(bad.fromInvalid.slice(0, 10), [], what);
    assert.deepEqual(
      untraced.map((j) => `${j.id} ${j.app}/${j.environment} ${j.tag}`).slice(0, 10),
      [],
      `jobs in the queue that no allowed request answered with: ${what}`,
    );
    assert.deepEqual(invalidJobs, []);
    assert.equal(sent, RUNS);
    assert.equal(jobs.length, end.accepted, 'the queue on disk holds what the receiver queued');
    // Not vacuous: valid requests did queue, and every layer of the receiver answered.
    assert.ok(jobs.length > 0 && mayQueue.size === jobs.length, what);
    for (const status of [200, 202, 400, 401, 413, 415, 422])
      assert.ok((statuses.get(status) ?? 0) > 0, `no ${status}: ${what}`);
    for (const family of ['fuzz', 'auth', 'inject', 'structure'])
      assert.ok((families.get(family) ?? 0) >= RUNS / 10, what);
    assert.ok(growth.heapMB < 50 && growth.rssMB < 50, `memory grew: ${what}`);

    // Forged queue messages (issue 12, item 1): journal records written by someone who can write the data dir
    // but lacks the queue key — unsigned, signed with another key, or a signed job altered afterwards — with
    // hostile values in their fields. None reaches a worker; every one is kept as a dead letter with its reason.
    const forgeRng = prng(SEED + 1);
    const other = queueKeyFromEnv({ FJORD_QUEUE_KEY: 'not-the-queue-key-0123456789abcdef0123456789' })!;
    const forgedIds = new Set<string>();
    const records = Array.from({ length: 300 }, (_, n) => {
      const original = makeJob({ app: `forged${n}`, n: n + 1 });
      const job: any = structuredClone(original);
      const field = forgeRng.pick(['image', 'tag', 'reason', 'sha', 'app', 'environment']);
      job[field] = forgeRng.pick([...HOSTILE, 'registry.evil.example/miner', 'manual', 'rollback']);
      const sig = forgeRng.pick([
        undefined,
        other.sign(JSON.stringify(job)),
        testQueueKey().sign(JSON.stringify(original)),
      ]);
      const id = `forged-${n}`;
      forgedIds.add(id);
      return {
        op: 'send',
        id,
        group: `forged${n}/prod`,
        dedup: `forged${n}/prod/x`,
        job,
        at: Date.now(),
        ...(sig ? { sig } : {}),
      };
    });
    appendFileSync(join(queueDir, 'journal.log'), records.map((r) => JSON.stringify(r) + '\n').join(''));
    const reopened = await createLocalQueue({ key: testQueueKey(), dir: queueDir });
    const received: string[] = [];
    // Acked as received: a group hands out its next job only once the one before is done.
    for (let dead = -1, got = -1; dead !== reopened.listDead().length || got !== 0; ) {
      dead = reopened.listDead().length;
      const batch = await reopened.receive(1000, 600);
      got = batch.length;
      for (const m of batch) await reopened.ack(m);
      received.push(...batch.map((m) => m.messageId));
    }
    const deadForged = reopened.listDead().filter((d) => forgedIds.has(d.messageId));
    await reopened.close();
    assert.deepEqual(
      received.filter((id) => forgedIds.has(id)),
      [],
      'a forged journal record was handed to a worker',
    );
    assert.equal(deadForged.length, forgedIds.size, 'every forged record is kept as a dead letter');
    assert.ok(
      deadForged.every((d) => /^refused: (unsigned|fjord-signature)/.test(d.reason ?? '')),
      JSON.stringify(deadForged.slice(0, 3)),
    );
    assert.equal(received.length, jobs.length, 'the genuine jobs are still received');
  });
});

/**
 * Issue 12's cases, in the hostile suite: merge webhooks whose values are data an attacker chose — an author
 * name full of controls, bidi overrides and line separators, a merge time in 2099 — must still queue their
 * deploy (a merge is not lost to its merger's name), with the name cleaned and the time clamped; and the same
 * deliveries resent byte for byte long after the queue's 5-minute dedup window, by a receiver restarted on
 * the same data directory, queue nothing (the delivery log, as `fjord start` keeps it).
 */
describe('chaos: hostile values that reach a job, and long-lived replays', () => {
  const data = mkdtempSync(join(tmpdir(), 'fjord-hostile-replay-'));
  const queueDir = join(data, 'queue');
  const deliveriesFile = join(data, 'deliveries.log');
  after(() => rmSync(data, { recursive: true, force: true }));

  const NAMES = [
    'Mallory\u202e\u2066gnp.exe\u2069',
    'Eve\u0007\u001b[31mred\u001b[0m',
    'line\u2028two\u2029three',
    'x\r\nCo-authored-by: Root <root@example.com>',
    '\u200b\u200d\ufeffzero width',
    '\u0000\u0001\u007f\u0085',
    '@all Closes #1',
    'N'.repeat(500),
    ...HOSTILE,
  ];
  const TIMES = (now: number) => [
    '2099-01-01T00:00:00Z',
    '+275760-09-13T00:00:00.000Z',
    '9999-12-31 23:59:59 UTC',
    new Date(now + 10 * 365 * 86_400_000).toISOString(),
    new Date(now + 2 * 3600_000).toISOString(),
    new Date(now - 3600_000).toISOString(),
    'not a time',
  ];

  /** A merged GitLab MR (token) or GitHub PR (signed) with this author, merge time and sha; its delivery id is fixed. */
  function merge(rng: ReturnType<typeof prng>, n: number, now: number) {
    const sha = crypto.randomBytes(20).toString('hex');
    const author = rng.pick(NAMES);
    const time = rng.pick(TIMES(now));
    const [mr, , , pr] = bases();
    if (n % 2 === 0) {
      const body = structuredClone(mr!.body);
      Object.assign(body.object_attributes, { merge_commit_sha: sha, updated_at: time });
      body.user = { ...body.user, name: author };
      const text = JSON.stringify(body);
      return {
        path: '/hooks/gitlab',
        text,
        headers: gitlabHeaders('Merge Request Hook', GITLAB_TOKENS[n % 4 < 2 ? 0 : 1], {
          'idempotency-key': `replay-${n}-${sha.slice(0, 8)}`,
        }),
      };
    }
    const body = structuredClone(pr!.body);
    Object.assign(body.pull_request, { merge_commit_sha: sha, merged_at: time, merged_by: { login: author } });
    const text = JSON.stringify(body);
    return { path: '/hooks/github', text, headers: githubHeaders('pull_request', text, GITHUB_SECRETS[n % 2]) };
  }

  /** `fn` over `items`, CONCURRENCY at a time, results in order. */
  async function eachFour<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < items.length) {
          const i = next++;
          out[i] = await fn(items[i]!);
        }
      }),
    );
    return out;
  }

  it('hostile author names and far-future merge times queue cleaned, clamped jobs; resent days later they queue nothing', async () => {
    const rng = prng(SEED + 2);
    const N = 120;
    const now = Date.now();
    const deliveries = Array.from({ length: N }, (_, n) => merge(rng, n, now));
    const post = (port: number, d: (typeof deliveries)[number]) =>
      sendOne(`http://127.0.0.1:${port}${d.path}`, [Buffer.from(d.text)], d.headers);
    type Queued = { queued?: Array<{ id: string; duplicate?: true }> };

    // First delivery: every merge is queued, whatever its author's name or merge time.
    const first = await startChild(queueDir, { deliveriesFile });
    let answers: Awaited<ReturnType<typeof post>>[];
    try {
      answers = await eachFour(deliveries, (d) => post(first.port, d));
    } finally {
      await first.stop();
    }
    const refused = answers.flatMap((a, n) =>
      a.status === 202 ? [] : [`${n}: ${a.status} ${JSON.stringify(a.body)}`],
    );
    assert.deepEqual(refused.slice(0, 5), [], 'a merge was refused for the values its sender chose');
    const firstIds = answers.flatMap((a) => ((a.body as Queued).queued ?? []).map((q) => q.id));
    assert.equal(firstIds.length, N);

    let queue = await createLocalQueue({ key: testQueueKey(), dir: queueDir });
    const jobs = queue.list().map((e) => e.job);
    await queue.close();
    assert.equal(jobs.length, N);
    const unclean = jobs.filter(
      (j) => j.source.author !== undefined && !/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,200}$/u.test(j.source.author),
    );
    assert.deepEqual(
      unclean.map((j) => JSON.stringify(j.source.author)).slice(0, 5),
      [],
      'an author reached a job uncleaned',
    );
    assert.ok(
      jobs.some((j) => j.source.author === 'Eve[31mred[0m'),
      'controls are removed, the printable rest kept',
    );
    const future = jobs.filter(
      (j) => j.source.committedAt && Date.parse(j.source.committedAt) > Date.parse(j.enqueuedAt) + CLOCK_SKEW_MS,
    );
    assert.deepEqual(future.map((j) => j.source.committedAt).slice(0, 5), [], 'a far-future merge time was kept');
    // Not vacuous: the corpus did carry far-future times, and past ones are kept as sent.
    assert.ok(jobs.filter((j) => j.source.committedAt === new Date(now - 3600_000).toISOString()).length > 0);

    // Resent (GitLab "Resend", GitHub "Redeliver") 3 days later, to a restarted receiver on the same data
    // directory: far beyond the queue's dedup window, so only the delivery log stands between them and a
    // second deploy of each.
    const later = await startChild(queueDir, { deliveriesFile, clockOffsetMs: 3 * 86_400_000 });
    let replays: Awaited<ReturnType<typeof post>>[];
    let fresh: Awaited<ReturnType<typeof post>>;
    try {
      replays = await eachFour(deliveries, (d) => post(later.port, d));
      // And a new merge still queues: the replays were refused for what they are, not for the time.
      fresh = await post(later.port, merge(rng, N, now + 3 * 86_400_000));
    } finally {
      await later.stop();
    }
    const requeued = replays.flatMap((a, n) =>
      a.status === 202 && ((a.body as Queued).queued ?? []).every((q) => q.duplicate) ? [] : [`${n}: ${a.status}`],
    );
    assert.deepEqual(requeued.slice(0, 5), [], 'a replayed delivery was queued again');
    assert.equal(fresh.status, 202);
    assert.ok(((fresh.body as Queued).queued ?? []).every((q) => !q.duplicate));
    queue = await createLocalQueue({ key: testQueueKey(), dir: queueDir });
    assert.equal(queue.list().length, N + 1, 'only the new merge joined the queue');
    await queue.close();
  });
});

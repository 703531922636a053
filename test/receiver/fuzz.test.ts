/**
 * Fuzz-style: a few thousand mutated webhooks (seeded, so a failure replays) sent as raw HTTP/1.1 over
 * loopback — raw, so that broken framing and header injection reach the server as sent. Whatever arrives:
 * the answer is 2xx or 4xx (the queue here never fails, so no 503), the server stays up, and a job is
 * queued only by an authenticated request answered 202, and only a job that passes its schema.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deployJobSchema } from '../../lib/job.js';
import { signStandardWebhook } from '../../lib/events/verify-standard-webhook.js';
import { GITHUB_SECRETS, GITLAB_TOKENS, SIGNING_KEYS, githubExample, payload, startTestReceiver, type TestReceiver } from '../fixtures/receiver.js';

const RUNS = Number(process.env.FJORD_FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FJORD_FUZZ_SEED ?? 20261123);

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
type Rng = ReturnType<typeof prng>;

const HOSTILE = [';id', '$(id)', '`id`', '\n', '../..', '\u0000', '\r\nX-Injected: 1', "' OR 1=1", '%0a', '\u202e', 'A'.repeat(300)];

interface Base {
  path: string;
  event: [string, string];
  body: any;
}
const bases = (): Base[] => {
  const worker = payload('gitlab-push');
  worker.project.path_with_namespace = 'acme/worker';
  const pr = githubExample('pull_request', (e) => e.action === 'closed');
  Object.assign(pr.pull_request, { merged: true, merge_commit_sha: 'e'.repeat(40) });
  return [
    { path: '/hooks/gitlab', event: ['X-Gitlab-Event', 'Merge Request Hook'], body: payload('gitlab-merge-request') },
    { path: '/hooks/gitlab', event: ['X-Gitlab-Event', 'Push Hook'], body: worker },
    { path: '/hooks/gitlab', event: ['X-Gitlab-Event', 'Pipeline Hook'], body: payload('gitlab-pipeline') },
    { path: '/hooks/github', event: ['X-GitHub-Event', 'pull_request'], body: pr },
  ];
};

/** Every path to a value in `value` (objects and arrays), for structured mutations. */
function paths(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (at.length > 0) out.push(at);
  if (value && typeof value === 'object' && at.length < 6) {
    for (const [k, v] of Object.entries(value)) paths(v, [...at, Array.isArray(value) ? Number(k) : k], out);
  }
  return out;
}

function mutateJson(rng: Rng, body: any): string {
  const all = paths(body);
  const target = rng.pick(all);
  const parent = target.slice(0, -1).reduce((o: any, k) => o[k], body);
  const key = target.at(-1)!;
  const deep = rng.int(200_000) + 1;
  const choices: Array<() => void> = [
    () => delete parent[key],
    () => (parent[key] = rng.pick([0, -1, 1e308, 'x', '', null, true, [], {}, [1, 2], { a: 1 }])),
    () => (parent[key] = (typeof parent[key] === 'string' ? parent[key] : 'x') + rng.pick(HOSTILE)),
    () => (parent[key] = rng.pick(HOSTILE)),
    () => (parent[key] = 'x'.repeat(rng.pick([1000, 100_000, 1_100_000]))),
    () => (parent[key] = '__DEEP__'),
    () => (parent[key] = String(rng.next()).repeat(3)),
  ];
  rng.pick(choices)();
  const text = JSON.stringify(body);
  return text.includes('"__DEEP__"') ? text.replace('"__DEEP__"', '['.repeat(deep) + ']'.repeat(deep)) : text;
}

function mutateBytes(rng: Rng, text: string): Buffer {
  const b = Buffer.from(text);
  const choice = rng.int(5);
  if (choice === 0) return b.subarray(0, rng.int(b.length));
  if (choice === 1) {
    for (let i = 0, n = rng.int(8) + 1; i < n; i++) {
      const at = rng.int(b.length);
      b[at] = b[at]! ^ (1 << rng.int(8));
    }
    return b;
  }
  if (choice === 2) {
    const at = rng.int(b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: rng.int(40) + 1 }, () => rng.int(256))), b.subarray(at)]);
  }
  if (choice === 3) return Buffer.concat([b, b.subarray(0, rng.int(b.length))]);
  return Buffer.from([0xff, 0xfe, ...b]);
}

type Auth = 'valid' | 'invalid' | 'unknown';

interface Case {
  path: string;
  headers: [string, string][];
  body: Buffer;
  auth: Auth;
  /** Raw header lines appended as they are (injection attempts). */
  raw?: string;
  chunked?: boolean;
}

function makeCase(rng: Rng, base: Base): Case {
  const body = structuredClone(base.body);
  const r = rng.next();
  let bytes: Buffer;
  if (r < 0.15) bytes = Buffer.from(JSON.stringify(body)); // unmutated: exercises auth only
  else if (r < 0.7) bytes = Buffer.from(mutateJson(rng, body));
  else bytes = mutateBytes(rng, JSON.stringify(body));
  const headers: [string, string][] = [base.event];
  headers.push(['Content-Type', rng.next() < 0.9 ? 'application/json' : rng.pick(['text/plain', 'application/json; charset=latin1', '', 'application/json; charset=utf-8', 'multipart/form-data'])]);
  if (rng.next() < 0.1) headers[0] = [base.event[0], rng.pick(['Note Hook', 'System Hook', 'push', 'ping', '', 'Merge Request Hook', 'x'.repeat(2000)])];

  const github = base.path === '/hooks/github';
  const mode = rng.int(6);
  let auth: Auth;
  if (github) {
    const signedBytes = mode === 0 ? Buffer.from(JSON.stringify(base.body)) : bytes;
    const secret = mode === 1 ? 'not-the-secret' : rng.pick(GITHUB_SECRETS);
    const sig = 'sha256=' + createHmac('sha256', secret).update(signedBytes).digest('hex');
    if (mode !== 2) headers.push(['X-Hub-Signature-256', mode === 3 ? sig.toUpperCase() : sig]);
    headers.push(['X-GitHub-Delivery', rng.pick(['72d3162e-cc78-11e3-81ab-4c9367dc0958', '', '$(id)'])]);
    // Bytes that are not UTF-8 are signed as sent but verified as decoded text: they may fail, never pass wrongly.
    const signsSent = signedBytes.equals(bytes) && mode >= 4;
    const signsOther = !signedBytes.equals(bytes) || mode === 1 || mode === 2 || mode === 3;
    auth = signsOther ? 'invalid' : signsSent && bytes.equals(Buffer.from(bytes.toString('utf8'))) ? 'valid' : 'unknown';
  } else if (mode <= 2) {
    const token = mode === 0 ? rng.pick(GITLAB_TOKENS) : mode === 1 ? rng.pick(['', 'wrong', GITLAB_TOKENS[0] + 'x', GITLAB_TOKENS[1].slice(1), 'x'.repeat(5000)]) : undefined;
    if (token !== undefined) headers.push(['X-Gitlab-Token', token]);
    auth = mode === 0 ? 'valid' : 'invalid';
  } else {
    const now = Math.floor(Date.now() / 1000);
    const id = rng.pick(['msg_1', 'b7f4c1d2-0a9e-4c3b-8e2f-6d5a4b3c2e1f', 'x.y.z']);
    const ts = mode === 4 ? now - 3600 : now;
    const signedBytes = mode === 5 ? Buffer.from(JSON.stringify(base.body) + ' ') : bytes;
    headers.push(['webhook-id', id], ['webhook-timestamp', String(ts)], ['webhook-signature', signStandardWebhook(rng.pick(SIGNING_KEYS), id, ts, signedBytes)]);
    auth = mode === 3 ? 'valid' : 'invalid';
  }
  if (rng.next() < 0.1) headers.push(['Idempotency-Key', rng.pick(['a', '', 'x'.repeat(300), '../../x', 'k;y'])]);
  const c: Case = { path: base.path, headers, body: bytes, auth, chunked: rng.next() < 0.15 };
  if (rng.next() < 0.08) {
    // Header injection: control characters and bad tokens in header lines, sent raw.
    c.raw = rng.pick([
      'X-Note: a\nX-Gitlab-Token: wrong\r\n',
      'X-Note: a\rb\r\n',
      'X-Note: \u0000\r\n',
      `X-Gitlab-Token: wrong\r\n`,
      'Content-Length: 5\r\n',
      'Transfer-Encoding: chunked\r\n',
      'X-Note: ü\r\n',
      ' folded: continuation\r\n',
    ]);
    c.auth = 'unknown';
  }
  return c;
}

/** Sends one request over its own connection and returns the status (0 if the server closed without one). */
function rawRequest(port: number, c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(20_000, () => socket.destroy(new Error('no answer within 20 s')));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)));
    socket.on('close', () => {
      const head = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      resolve(m ? Number(m[1]) : 0);
    });
    const lines = [`POST ${c.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...c.headers.map(([k, v]) => `${k}: ${v}`)];
    lines.push(c.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${c.body.length}`);
    const head = Buffer.from(lines.join('\r\n') + '\r\n' + (c.raw ?? '') + '\r\n', 'latin1');
    const body = c.chunked ? Buffer.concat([Buffer.from(c.body.length.toString(16) + '\r\n'), c.body, Buffer.from('\r\n0\r\n\r\n')]) : c.body;
    // write, not end: a half-closed client socket lets Node drop the answer of a request still being handled
    socket.write(Buffer.concat([head, body]));
  });
}

describe('receiver: fuzz', () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver();
  });
  after(() => r.close());

  it(`${RUNS} mutated requests: 2xx/4xx only, no crash, jobs only from authenticated valid requests`, async () => {
    const rng = prng(SEED);
    const all = bases();
    const port = Number(new URL(r.url).port);
    const seen = new Map<number, number>();
    for (let i = 0; i < RUNS; i++) {
      const c = makeCase(rng, rng.pick(all));
      const sendsBefore = r.queue.sends;
      const acceptedBefore = r.queue.accepted.length;
      const status = await rawRequest(port, c);
      seen.set(status, (seen.get(status) ?? 0) + 1);
      const what = `case ${i} (seed ${SEED}): ${c.path} auth=${c.auth} status=${status} headers=${JSON.stringify(c.headers).slice(0, 400)}`;
      assert.ok(status >= 200 && status < 500, what);
      if (c.auth === 'invalid') assert.ok([400, 401, 404, 413, 431].includes(status), what);
      if (c.auth === 'valid') assert.ok([200, 202, 400, 413, 415, 422].includes(status), what);
      if (status !== 202) assert.equal(r.queue.sends, sendsBefore, `${what}: sent to the queue without a 202`);
      else assert.notEqual(c.auth, 'invalid', what);
      for (const job of r.queue.accepted.slice(acceptedBefore)) assert.ok(deployJobSchema.safeParse(job).success, `${what}: invalid job queued`);
    }
    // The server is still up and answering.
    assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
    // The mix reached every layer: auth failures, size, type, JSON, zod, ignored and queued answers.
    for (const status of [200, 202, 400, 401, 413, 415, 422]) assert.ok((seen.get(status) ?? 0) > 0, `no ${status} among ${JSON.stringify([...seen])}`);
  });
});

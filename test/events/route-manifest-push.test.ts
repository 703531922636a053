import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { deployJobSchema } from '../../lib/job.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import type { SourceEvent } from '../../lib/events/event.js';

const config = parseConfig(`
sources: { gitlab: { webhookSecretEnv: S } }
manifest: { backend: gitlab, project: ops/manifests, branch: main }
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    environments:
      staging: { manifest: { file: api/staging.yaml, path: image.tag } }
      prod: { manifest: { file: api/prod.yaml, path: image.tag } }
`);
const AFTER = 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7';
const push = (commits: Array<{ message: string; modified?: string[]; added?: string[] }>, ref = 'refs/heads/main') => ({
  object_kind: 'push',
  ref,
  after: AFTER,
  checkout_sha: AFTER,
  user_name: 'Ada Person',
  project: { path_with_namespace: 'ops/manifests' },
  commits: commits.map((c, i) => ({ id: String(i).repeat(40).slice(0, 40), timestamp: '2026-11-23T10:00:00Z', ...c })),
});
const route = (body: unknown) =>
  routeEvent(parseGitlab('Push Hook', body) as SourceEvent, { config, deliveryId: 'd-1', now: () => 0 });

describe('manifest pushes → converge jobs', () => {
  it("a person's revert of the prod file converges prod only", () => {
    const out = route(
      push([{ message: 'Revert "deploy(api/prod): …:v2"\n\nThis reverts commit abc.', modified: ['api/prod.yaml'] }]),
    );
    assert.ok('jobs' in out, JSON.stringify(out));
    assert.deepEqual(
      out.jobs.map((j) => [j.app, j.environment, j.reason, j.tag, j.sha]),
      [['api', 'prod', 'converge', 'manifest-da156088', AFTER]],
    );
    assert.ok(deployJobSchema.safeParse(out.jobs[0]).success);
  });

  it("fjord's own commits (Fjord-Job trailer) do not roll out twice", () => {
    const out = route(
      push([
        { message: 'deploy(api/prod): x:v3\n\nFjord-Job: 1234abcd\nFjord-Reason: merge', modified: ['api/prod.yaml'] },
      ]),
    );
    assert.ok('ignored' in out);
    assert.match(out.ignored, /fjord's own commits/);
  });

  it('a push mixing fjord commits and a hand edit converges only the hand-edited file', () => {
    const out = route(
      push([
        { message: 'deploy(api/prod): x:v3\n\nFjord-Job: 1234abcd', modified: ['api/prod.yaml'] },
        { message: 'hand edit staging tag', modified: ['api/staging.yaml', 'README.md'] },
      ]),
    );
    assert.ok('jobs' in out);
    assert.deepEqual(
      out.jobs.map((j) => j.environment),
      ['staging'],
    );
  });

  it('other branches and unrelated files are ignored', () => {
    assert.ok('ignored' in route(push([{ message: 'x', modified: ['api/prod.yaml'] }], 'refs/heads/feature')));
    assert.ok('ignored' in route(push([{ message: 'docs', modified: ['README.md'] }])));
  });
});

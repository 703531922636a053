/** The plan note on an open merge request shows, per host, the managed files the rollout would change and what that means. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPlan } from '../../lib/plan/render-plan.js';
import type { EnvironmentPlan, Plan } from '../../lib/plan/types.js';

const env: EnvironmentPlan = {
  environment: 'prod',
  via: 'direct',
  file: 'prod.yaml',
  writeBack: 'commit',
  currentTag: 'v1',
  diff: '',
  strategy: 'docker',
  canary: false,
  batchSize: 1,
  batches: [['web-1', 'web-2']],
  hosts: [
    {
      host: 'web-1',
      status: 'in-sync',
      running: 'r/acme/api:v1',
      desired: 'r/acme/api:v1',
      files: [{ source: 'n.conf', target: '/etc/nginx/nginx.conf', status: 'in-sync', onChange: 'reload' }],
    },
    {
      host: 'web-2',
      status: 'drifted',
      running: 'r/acme/api:v1',
      desired: 'r/acme/api:v1',
      files: [
        { source: 'n.conf', target: '/etc/nginx/nginx.conf', status: 'drifted', onChange: 'reload', diff: '-a\n+b\n' },
        { source: 'app.ini', target: 'srv/app.ini', status: 'missing', onChange: 'restart' },
        { source: 'old.conf', target: 'etc/old|x.conf', status: 'extra', onChange: 'none' },
      ],
    },
  ],
};
const plan: Plan = {
  app: 'api',
  image: 'r/acme/api',
  tag: 'abc12345',
  template: '{shortSha}',
  sha: 'abc12345'.padEnd(40, '0'),
  targetBranch: 'main',
  imageCheck: { status: 'unchecked' },
  environments: [env],
  plannedAt: '2026-01-01T00:00:00.000Z',
};

describe('plan note and managed files', () => {
  it('lists per host the files the rollout changes, each with reload or restart', () => {
    const body = renderPlan(plan);
    assert.match(body, /\| batch \| host \| running now \| drift \| files the rollout changes \|/);
    const row = (host: string) => body.split('\n').find((l) => l.includes(`\`${host}\``))!;
    assert.match(row('web-1'), /✅ in sync \| – \|$/);
    assert.match(
      row('web-2'),
      /⚠️ drifted: managed files differ from git \| `\/etc\/nginx\/nginx.conf` drifted → reload, `srv\/app.ini` missing → restart of the app, `etc\/old\\\|x.conf` removed → no reload \|$/,
    );
    assert.equal(row('web-2').split(/(?<!\\)\|/).length, 7, 'a | in a path cannot add a column');
  });

  it('an environment without managed files keeps the four-column table', () => {
    const body = renderPlan({
      ...plan,
      environments: [
        { ...env, hosts: env.hosts.map(({ files: _files, ...h }) => ({ ...h, status: 'in-sync' as const })) },
      ],
    });
    assert.match(body, /\| batch \| host \| running now \| drift \|\n/);
  });
});

/**
 * A freeze fails closed (issue 14, item 1): when the windows cannot be read — an invalid
 * `.fjord/freezes.yaml` in the manifest repository, or GitLab refusing the freeze periods request — the
 * job is held for 5 minutes and checked again, never deployed blind and never dropped. Real parts: a bare
 * git manifest repository and the GitLab stand-in (with a token it does not know).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { GateWait } from '../../lib/gates/gate.js';
import { createLogger } from '../../lib/log.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { makeJob } from '../fixtures/jobs.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';

const FILE = 'api/prod.yaml';
const NOW = Date.parse('2026-07-01T10:00:00Z');
const ctx = {
  heartbeat: async () => {},
  attempts: 1,
  logger: createLogger({ level: 'error', write: () => {} }),
  signal: new AbortController().signal,
};

describe('freeze windows that cannot be read', () => {
  it('an invalid .fjord/freezes.yaml holds the deploy for 5 minutes, naming the problem; nothing committed', async () => {
    const repo = createBareRepo({
      [FILE]: 'image:\n  tag: v0\n',
      '.fjord/freezes.yaml': 'freezes:\n  - { cron: "0 18 * * *", duration: 1h, timeZone: Mars/Olympus }\n',
    });
    const config = parseConfig(oneAppConfigYaml({ repository: repo.bare, file: FILE }));
    const ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-freeze-bad-')),
      env: {},
      now: () => new Date(NOW),
    });
    await assert.rejects(deploy(makeJob({ n: 1 }), ctx, ports), (err: unknown) => {
      assert.ok(err instanceof GateWait);
      assert.equal(err.until.toISOString(), '2026-07-01T10:05:00.000Z');
      assert.match(err.reason, /\.fjord\/freezes\.yaml is invalid: freezes\.0\.timeZone: not an IANA time zone/);
      return true;
    });
    assert.match(repo.git(['show', `main:${FILE}`]), /tag: v0/);
    repo.cleanup();
  });

  it('GitLab refusing the freeze periods request (401) holds the deploy, and the token is not in the reason', async () => {
    const app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
    const repo = createBareRepo({ [FILE]: 'image:\n  tag: v0\n' });
    const gitlab = await startGitlabStandIn({ projects: { 'acme/api': { repo: app.bare } } });
    try {
      // The merge in this test is made up (no MR in the stand-in): the merge confirmation is not its subject.
      const config = parseConfig(
        oneAppConfigYaml({
          repository: repo.bare,
          file: FILE,
          sources: `{ gitlab: { url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN, confirmMerge: false } }`,
        }),
      );
      const token = 'glpat-not-known-to-the-stand-in';
      const ports = makeDeployPorts({
        config,
        configPath: join(repo.root, 'fjord.yaml'),
        dataDir: mkdtempSync(join(tmpdir(), 'fjord-freeze-401-')),
        env: { GITLAB_TOKEN: token },
        now: () => new Date(NOW),
      });
      await assert.rejects(deploy(makeJob({ n: 2 }), ctx, ports), (err: unknown) => {
        assert.ok(err instanceof GateWait);
        assert.match(err.reason, /the GitLab freeze periods of acme\/api could not be read/);
        assert.ok(!err.reason.includes(token));
        return true;
      });
      assert.ok(
        gitlab.state.requests.some((r) => r.path === '/projects/acme/api/freeze_periods' && r.status === 401),
        'it asked GitLab',
      );
      assert.match(repo.git(['show', `main:${FILE}`]), /tag: v0/);
    } finally {
      await gitlab.close();
      app.cleanup();
      repo.cleanup();
    }
  });
});

/**
 * Embedded mode end to end (issue 3 item 5): the real Node receiver, the durable local queue and the
 * worker in one process; a merged MR (and the push it causes) POSTed over HTTP ends as exactly one commit
 * in a real bare manifest repository created from `manifest.seed`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { startEmbedded } from '../../lib/embedded/start-embedded.js';
import { silentLogger } from '../../lib/log.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import { gitlabHeaders, GITLAB_TOKENS, payload } from '../fixtures/receiver.js';
import { yamlScalar } from '../fixtures/yaml-text.js';

describe('fjord start (embedded)', () => {
  it('a merged MR and its push become one manifest commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-embedded-'));
    mkdirSync(join(dir, 'seed/apps/api'), { recursive: true });
    writeFileSync(join(dir, 'seed/apps/api/values.yaml'), '# api\nimage:\n  tag: old   # fjord\n');
    const mr = payload('gitlab-merge-request');
    const project = mr.project.path_with_namespace as string;
    const branch = mr.object_attributes.target_branch as string;
    const configPath = join(dir, 'fjord.yaml');
    const config = parseConfig(`
sources: { gitlab: { webhookSecretEnv: FJORD_GITLAB_SECRET } }
manifest: { backend: git, repository: ./manifests.git, seed: ./seed }
apps:
  api:
    source: { project: ${project}, branch: ${branch}, trigger: merge }
    image: registry.example.com/acme/api
    waitForImage: 0s
    environments:
      staging: { manifest: { file: apps/api/values.yaml, path: image.tag } }
`);
    const outcomes: Outcome[] = [];
    const running = await startEmbedded({
      config,
      configPath,
      env: { FJORD_GITLAB_SECRET: GITLAB_TOKENS[0], FJORD_DATA_DIR: join(dir, 'data') },
      cwd: dir,
      logger: silentLogger,
      port: 0,
      hostname: '127.0.0.1',
      onOutcome: (_job, o) => outcomes.push(o),
    });
    try {
      const post = (event: string, body: unknown) =>
        fetch(`${running.url}/hooks/gitlab`, {
          method: 'POST',
          headers: gitlabHeaders(event),
          body: JSON.stringify(body),
        });
      const merged = await post('Merge Request Hook', mr);
      assert.equal(merged.status, 202);
      const { queued } = (await merged.json()) as { queued: Array<{ tag: string; sha: string }> };
      assert.equal(queued.length, 1);
      // GitLab also fires a Push Hook for the merge commit on the target branch.
      const push = payload('gitlab-push');
      push.after = queued[0]!.sha;
      assert.ok([200, 202].includes((await post('Push Hook', push)).status));
      const deadline = Date.now() + 15_000;
      while (outcomes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['deployed'],
      );
      const git = (...args: string[]) =>
        execFileSync('git', ['-C', join(dir, 'manifests.git'), ...args], { encoding: 'utf8' });
      assert.equal(git('rev-list', '--count', 'main').trim(), '2', 'seed commit + one deploy commit');
      assert.equal(
        git('show', 'main:apps/api/values.yaml'),
        `# api\nimage:\n  tag: ${yamlScalar(queued[0]!.tag)}   # fjord\n`,
      );
    } finally {
      await running.stop();
    }
  });
});

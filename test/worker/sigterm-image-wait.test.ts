/**
 * Issue 12, item 9: SIGTERM interrupts the image wait. A real `fjord start` process takes a merged MR whose
 * image is not in the real registry yet (waitForImage 15m), is sent SIGTERM while it waits, and exits
 * cleanly within a bound derived from nothing slow (the registry answers locally), handing the job back to
 * its durable queue: pending, not dead, not lost, nothing committed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { readLocalQueue } from '../../lib/queue/read-local.js';
import { gitlabHeaders, GITLAB_TOKENS, payload } from '../fixtures/receiver.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { startWorkerProcess } from '../fixtures/worker-process.js';

describe('fjord start: SIGTERM during the image wait', () => {
  let registry: RegistryFixture;
  before(async () => (registry = await startRegistry()));
  after(async () => registry?.stop());

  it('a stopping worker hands back the job waiting for its image and exits, instead of waiting out waitForImage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-sigterm-'));
    mkdirSync(join(dir, 'seed/apps/api'), { recursive: true });
    writeFileSync(join(dir, 'seed/apps/api/values.yaml'), 'image:\n  tag: old\n');
    const mr = payload('gitlab-merge-request');
    writeFileSync(
      join(dir, 'fjord.yaml'),
      `
sources: { gitlab: { webhookSecretEnv: FJORD_GITLAB_SECRET } }
manifest: { backend: git, repository: ./manifests.git, seed: ./seed }
registries: [{ host: "${registry.host}", insecure: true }]
reconcile: { interval: 0 }
apps:
  api:
    source: { project: ${mr.project.path_with_namespace}, branch: ${mr.object_attributes.target_branch}, trigger: merge }
    image: ${registry.host}/acme/never-built
    waitForImage: 15m
    environments:
      staging: { manifest: { file: apps/api/values.yaml, path: image.tag } }
`,
    );
    let url: string | undefined;
    const w = startWorkerProcess({
      config: join(dir, 'fjord.yaml'),
      cwd: dir,
      env: { FJORD_GITLAB_SECRET: GITLAB_TOKENS[0], FJORD_DATA_DIR: join(dir, 'data') },
      onText: (text) => {
        url ??= /fjord listening on (http:\/\/\S+)/.exec(text)?.[1];
      },
    });
    try {
      for (let i = 0; !url && !w.exited && i < 1200; i++) await sleep(100);
      assert.ok(url, 'fjord start printed no URL');
      const answer = await fetch(`${url}/hooks/gitlab`, {
        method: 'POST',
        headers: gitlabHeaders('Merge Request Hook'),
        body: JSON.stringify(mr),
      });
      assert.equal(answer.status, 202);
      const queueDir = join(dir, 'data', 'queue');
      // The job is in flight: the worker is waiting for an image that will not come.
      for (let i = 0; i < 600; i++) {
        if ((await readLocalQueue(queueDir)).list().some((e) => e.state === 'in-flight')) break;
        await sleep(100);
      }
      assert.equal((await readLocalQueue(queueDir)).list()[0]?.state, 'in-flight');
      await sleep(500); // well into the wait (the registry has answered 404 at least once)
      const started = Date.now();
      process.kill(w.pid, 'SIGTERM');
      // A bound of 5 minutes: far below the 15 m wait, far above one local registry check on a loaded machine.
      while (!w.exited && Date.now() - started < 300_000) await sleep(20);
      const stopMs = Date.now() - started;
      const code = await w.stop(1); // already exited (or killed now): its exit code
      assert.equal(code, 0, `fjord start exited ${code} after ${stopMs} ms`);
      const view = await readLocalQueue(queueDir);
      assert.deepEqual(
        view.list().map((e) => e.state),
        ['pending'],
        'handed back: visible again at once',
      );
      assert.equal(view.listDead().length, 0);
      const commits = execFileSync('git', ['-C', join(dir, 'manifests.git'), 'rev-list', '--count', 'main'], {
        encoding: 'utf8',
      }).trim();
      assert.equal(commits, '1', 'only the seed commit');
      console.log(`# SIGTERM → exit in ${stopMs} ms (waitForImage 15m)`);
    } finally {
      if (!w.exited) await w.kill9();
    }
  });
});

/**
 * Issue 12, item 9: what fjord keeps on disk is its owner's alone, whatever the umask. The embedded mode's
 * data dir, queue dir, journal, queue lock, generated queue key and manifest cache (a real `fjord start`
 * deploy through a real git repository), and each host's state dir, lock and deploy records written over
 * a real sshd.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { startEmbedded } from '../../lib/embedded/start-embedded.js';
import { silentLogger } from '../../lib/log.js';
import { acquireLock, lockOwner, recordBefore, recordDeployed } from '../../lib/rollout/state-commands.js';
import { connect } from '../../lib/ssh/index.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { gitlabHeaders, GITLAB_TOKENS, payload } from '../fixtures/receiver.js';
import { OPTIONS } from '../ssh/helpers.js';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
/** Entries of `dir` (itself included, not recursing) whose mode lets group or others in. */
const open = (dir: string): string[] =>
  [dir, ...readdirSync(dir).map((e) => join(dir, e))]
    .filter((p) => (statSync(p).mode & 0o077) !== 0)
    .map((p) => `${p} ${mode(p)}`);

describe('file modes', () => {
  it('fjord start: data dir, queue, journal, lock, queue key and manifest cache are 0700/0600 under umask 022', async () => {
    process.umask(0o022); // the common default, which would leave files 0644
    const dir = mkdtempSync(join(tmpdir(), 'fjord-modes-'));
    mkdirSync(join(dir, 'seed/apps/api'), { recursive: true });
    writeFileSync(join(dir, 'seed/apps/api/values.yaml'), 'image:\n  tag: old\n');
    const mr = payload('gitlab-merge-request');
    const config = parseConfig(`
sources: { gitlab: { webhookSecretEnv: FJORD_GITLAB_SECRET } }
manifest: { backend: git, repository: ./manifests.git, seed: ./seed }
apps:
  api:
    source: { project: ${mr.project.path_with_namespace}, branch: ${mr.object_attributes.target_branch}, trigger: merge }
    image: registry.example.com/acme/api
    waitForImage: 0s
    environments:
      staging: { manifest: { file: apps/api/values.yaml, path: image.tag } }
`);
    const outcomes: Outcome[] = [];
    const data = join(dir, 'data');
    const running = await startEmbedded({
      config,
      configPath: join(dir, 'fjord.yaml'),
      env: { FJORD_GITLAB_SECRET: GITLAB_TOKENS[0], FJORD_DATA_DIR: data },
      cwd: dir,
      logger: silentLogger,
      port: 0,
      hostname: '127.0.0.1',
      onOutcome: (_job, o) => outcomes.push(o),
    });
    try {
      const answer = await fetch(`${running.url}/hooks/gitlab`, {
        method: 'POST',
        headers: gitlabHeaders('Merge Request Hook'),
        body: JSON.stringify(mr),
      });
      assert.equal(answer.status, 202);
      const deadline = Date.now() + 60_000; // generous: only a bound on a hang, the loop ends at the outcome
      while (outcomes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['deployed'],
      );
      assert.equal(mode(data), '700');
      assert.equal(mode(join(data, 'queue')), '700');
      assert.equal(mode(join(data, 'queue', 'journal.log')), '600');
      assert.equal(mode(join(data, 'queue.key')), '600', 'the generated queue key');
      assert.ok(readdirSync(data).includes('manifests'), `no manifest cache in ${readdirSync(data)}`);
      // The manifest cache is git's (its files follow git's modes), behind 0700 directories no one else can enter.
      assert.equal(mode(join(data, 'manifests')), '700');
      assert.deepEqual(
        [...open(data), ...open(join(data, 'queue'))],
        [],
        'nothing in the data dir or the queue is readable by group or others',
      );
    } finally {
      await running.stop();
    }
  });

  describe('host state over real sshd', () => {
    let fleet: TestFleet;
    before(async () => {
      fleet = await startFleet({ hosts: 1 });
    });
    after(() => fleet?.stop());

    it('the state dir, its lock and owner file, and the deploy records are the deploy user’s alone', async () => {
      const host = fleet.hosts[0]!;
      const session = await connect(host, fleet.auth, OPTIONS);
      try {
        // The session's own umask (sshd's default 022) would leave them world-readable.
        assert.equal((await session.exec(['sh', '-c', 'umask'])).stdout.trim(), '0022');
        const owner = lockOwner({
          token: 't0k',
          jobId: 'job-1',
          app: 'api',
          environment: 'prod',
          owner: 'fjord@test',
          time: new Date(),
        });
        assert.equal((await session.exec(acquireLock('.fjord-modes', owner, 60_000, 'job-1'))).exitCode, 0);
        for (const argv of [
          recordDeployed('.fjord-modes', 'api', 'prod', 'registry.example.com/acme/api:v1'),
          recordBefore('.fjord-modes', 'api', 'prod', 'job-1', 'registry.example.com/acme/api:v0'),
        ]) {
          assert.equal((await session.exec(argv)).exitCode, 0, argv.join(' '));
        }
      } finally {
        session.close();
      }
      const state = join(host.home, '.fjord-modes');
      assert.equal(mode(state), '700');
      assert.equal(mode(join(state, 'lock', 'owner')), '600');
      assert.equal(readdirSync(state).sort().join(','), 'before,deployed,lock');
      assert.deepEqual(
        [
          ...open(state),
          ...open(join(state, 'lock')),
          ...open(join(state, 'deployed')),
          ...open(join(state, 'before')),
        ],
        [],
      );
    });
  });
});

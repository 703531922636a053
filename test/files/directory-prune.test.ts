/**
 * `prune: true` on a directory source (issue 13, closing gap 4), on a real sshd fleet: a file removed from
 * the directory in git is removed from the hosts on the next converge; only files fjord wrote there (its
 * per-host record of the names) are ever removed; a failed converge puts the removed file and the record
 * back; names read from a host's record are grammar-checked; drift shows a removed file that is back.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import { backupDir, recordPath } from '../../lib/files/file-commands.js';
import { createLogger } from '../../lib/log.js';
import { checkDrift } from '../../lib/reconcile/drift.js';
import { fleetForConfig } from '../../lib/reconcile/fleet-for.js';
import type { RolloutReport } from '../../lib/rollout/types.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, gitSync, type TestRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';

const DIR = 'hosts/conf.d/';
const TARGET = 'etc/conf.d';

describe('prune: true on a directory source, on real hosts', () => {
  let fleet: TestFleet;
  let repo: TestRepo;
  let ports: ReturnType<typeof makeDeployPorts>;
  const names = ['web-1', 'web-2'];
  const ctx: JobContext = {
    heartbeat: async () => {},
    attempts: 1,
    signal: new AbortController().signal,
    logger: createLogger({ level: 'warn', write: () => {} }),
  };
  const onHost = (host: string, rel: string) => join(fleet.host(host).home, TARGET, rel);
  const record = (host: string) => join(fleet.host(host).home, recordPath(backupDir('.fjord', 'api', 'prod'), TARGET));
  let clones = 0;
  /** A person's commit (`null`: the file removed), pushed and converged as GitLab's push hook would have it. */
  const push = async (
    changes: Record<string, string | null>,
    message: string,
    { converge = true } = {},
  ): Promise<Outcome | undefined> => {
    const clone = join(repo.root, `c-${++clones}`);
    gitSync(repo.root, ['clone', '--quiet', repo.bare, clone]);
    for (const [file, content] of Object.entries(changes)) {
      if (content === null) gitSync(clone, ['rm', '--quiet', file]);
      else {
        mkdirSync(dirname(join(clone, file)), { recursive: true });
        writeFileSync(join(clone, file), content);
      }
    }
    gitSync(clone, ['add', '-A']);
    gitSync(clone, ['commit', '--quiet', '-m', message]);
    gitSync(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    const sha = gitSync(clone, ['rev-parse', 'HEAD']).trim();
    if (!converge) return undefined;
    const files = Object.keys(changes);
    const hook = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      after: sha,
      checkout_sha: sha,
      user_name: 'Ada Person',
      project: { path_with_namespace: 'ops/manifests' },
      commits: [
        {
          id: sha,
          message,
          modified: files.filter((f) => changes[f] !== null),
          removed: files.filter((f) => changes[f] === null),
          timestamp: new Date().toISOString(),
        },
      ],
    };
    const routed = routeEvent(parseGitlab('Push Hook', hook) as SourceEvent, {
      config: ports.config,
      deliveryId: `d-${sha.slice(0, 8)}`,
      now: Date.now,
    });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    return await deploy(routed.jobs[0]!, ctx, ports);
  };
  const converged = async (changes: Record<string, string | null>, message: string) => (await push(changes, message))!;
  const drift = () =>
    checkDrift({
      config: ports.config,
      store: ports.store,
      fleetFor: fleetForConfig(ports.config, { FJORD_SSH_KEY: fleet.privateKey.reveal() }, repo.root),
    });

  before(async () => {
    fleet = await startFleet({ hosts: 2 });
    repo = createBareRepo({
      'api/prod.yaml': 'image:\n  repository: registry.example.com/acme/api\n  tag: v1\n',
      [`${DIR}a.conf`]: 'a\n',
      [`${DIR}sub/b.conf`]: 'b\n',
      [`${DIR}c.conf`]: 'c\n',
    });
    const config = parseConfig(
      fleetConfigYaml({
        fleet,
        repository: repo.bare,
        image: 'registry.example.com/acme/api',
        environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2]
        selfHeal: true
        files:
          - { source: ${DIR}, target: ${TARGET}, prune: true }
        rollout:
          strategy: command
          command: { deploy: [[sh, -c, 'echo "$1" > deployed-tag', fjord-hook, "{tag}"]] }
          healthCheck: { command: [sh, -c, 'test ! -e ${TARGET}/fail'], interval: 100ms, timeout: 1s }
          hostTimeout: 60s
`,
      }),
    );
    ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-prune-dir-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal() },
    });
    // A file a person put in the directory by hand, before fjord ever wrote there: never fjord's to remove.
    mkdirSync(join(fleet.host('web-1').home, TARGET), { recursive: true });
    writeFileSync(onHost('web-1', 'local.conf'), 'mine\n');
    const first = await deploy(
      makeJob({ app: 'api', environment: 'prod', tag: 'v1', id: 'job-prune-first', reason: 'converge' }),
      ctx,
      ports,
    );
    assert.equal(first.status, 'deployed', first.detail);
    for (const host of names)
      assert.equal(
        readFileSync(record(host), 'utf8'),
        'a.conf\nc.conf\nsub/b.conf\n',
        `${host}: the record names what fjord wrote`,
      );
  });
  after(async () => {
    await fleet?.stop();
    repo?.cleanup();
  });

  it('a file removed from the directory in git is removed from every host on the next converge; a file fjord did not write stays', async () => {
    const outcome = await converged({ [`${DIR}sub/b.conf`]: null }, 'conf.d: drop sub/b.conf');
    assert.equal(outcome.status, 'deployed', outcome.detail);
    for (const host of names) {
      assert.equal(existsSync(onHost(host, 'sub/b.conf')), false, `${host}: removed`);
      assert.equal(readFileSync(onHost(host, 'a.conf'), 'utf8'), 'a\n', `${host}: the others stay`);
      assert.equal(readFileSync(record(host), 'utf8'), 'a.conf\nc.conf\n');
    }
    assert.equal(
      readFileSync(onHost('web-1', 'local.conf'), 'utf8'),
      'mine\n',
      'a file fjord did not write is never removed',
    );
    const report = await drift();
    assert.equal(report.inSync, true, JSON.stringify(report.environments[0]!.hosts.map((h) => h.files)));
    // Nothing left to do: converging again is a no-op.
    assert.equal(
      (
        await deploy(
          makeJob({ app: 'api', environment: 'prod', tag: 'v1', id: 'job-prune-again', reason: 'converge' }),
          ctx,
          ports,
        )
      ).status,
      'noop',
    );
  });

  it("a file removed in git but still on the hosts is drift (extra) until a heal removes it; one put back by hand after that is not fjord's", async () => {
    await converged({ [`${DIR}sub/b.conf`]: 'b\n' }, 'conf.d: sub/b.conf again');
    await push({ [`${DIR}sub/b.conf`]: null }, 'conf.d: drop sub/b.conf again', { converge: false });
    const report = await drift();
    for (const h of report.environments[0]!.hosts) {
      assert.equal(h.status, 'drifted', h.host);
      assert.deepEqual(
        h.files!.filter((f) => f.status !== 'in-sync').map((f) => [f.target, f.status]),
        [[`${TARGET}/sub/b.conf`, 'extra']],
      );
    }
    const heal = await deploy(
      makeJob({ app: 'api', environment: 'prod', tag: 'v1', id: 'job-prune-heal', reason: 'heal' }),
      ctx,
      ports,
    );
    assert.equal(heal.status, 'deployed', heal.detail);
    for (const host of names) assert.equal(existsSync(onHost(host, 'sub/b.conf')), false, host);
    writeFileSync(onHost('web-2', 'sub/b.conf'), 'by hand\n');
    assert.equal((await drift()).inSync, true, 'not in the record: not managed by fjord any more');
    assert.equal(readFileSync(onHost('web-2', 'sub/b.conf'), 'utf8'), 'by hand\n');
  });

  it('a converge that fails puts the removed file and the record back, so the next converge still removes it', async () => {
    const failed = await converged(
      { [`${DIR}a.conf`]: null, [`${DIR}fail`]: 'x\n' },
      'conf.d: drop a.conf, add a file the health check refuses',
    );
    assert.equal(failed.status, 'failed', failed.detail);
    assert.equal((failed.rollout as RolloutReport).failed?.step, 'health');
    for (const host of names) {
      assert.equal(readFileSync(onHost(host, 'a.conf'), 'utf8'), 'a\n', `${host}: a.conf is back`);
      assert.equal(existsSync(onHost(host, 'fail')), false, `${host}: the new file is gone again`);
      assert.equal(readFileSync(record(host), 'utf8'), 'a.conf\nc.conf\n', `${host}: the record is back`);
    }
    const fixed = await converged({ [`${DIR}fail`]: null }, 'conf.d: drop the bad file');
    assert.equal(fixed.status, 'deployed', fixed.detail);
    for (const host of names) assert.equal(existsSync(onHost(host, 'a.conf')), false, `${host}: a.conf removed now`);
  });

  it("names in a host's record outside the path grammar are left alone, and emptying the directory in git removes every file fjord wrote", async () => {
    const outside = join(fleet.host('web-1').home, 'etc/keep.conf');
    writeFileSync(outside, 'outside\n');
    appendFileSync(record('web-1'), '../keep.conf\n$(touch pwned)\n/etc/hostname\n');
    const outcome = await converged({ [`${DIR}c.conf`]: null }, 'conf.d: empty');
    assert.equal(outcome.status, 'deployed', outcome.detail);
    for (const host of names) {
      assert.equal(existsSync(onHost(host, 'c.conf')), false, `${host}: c.conf removed`);
      assert.equal(readFileSync(record(host), 'utf8'), '', `${host}: the record is empty`);
    }
    assert.equal(readFileSync(outside, 'utf8'), 'outside\n', 'a name with .. is not followed');
    assert.equal(existsSync(join(fleet.host('web-1').home, 'pwned')), false);
    assert.equal(existsSync('/etc/hostname'), true);
    assert.equal(readFileSync(onHost('web-1', 'local.conf'), 'utf8'), 'mine\n');
  });
});

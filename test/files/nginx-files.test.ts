/**
 * Files as desired state (issue 13) on a real sshd fleet with a real nginx per host: `nginx.conf` in the
 * manifest repository, rendered per host (Mustache: the host's address and labels), is validated with
 * `nginx -t -c {file}`, swapped atomically and reloaded; a config that fails `nginx -t` changes no host,
 * one that passes it but fails the health check goes back on every host already changed, and `git revert`
 * converges back. The app's own rollout is the `command` strategy (no container): the files are the change.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import type { SourceEvent } from '../../lib/events/event.js';
import { parseGitlab } from '../../lib/events/parse-gitlab.js';
import { routeEvent } from '../../lib/events/route.js';
import { createLogger } from '../../lib/log.js';
import type { RolloutEvent, RolloutReport } from '../../lib/rollout/types.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployPorts } from '../../lib/worker/make-handler.js';
import type { Outcome } from '../../lib/worker/outcome.js';
import type { JobContext } from '../../lib/worker/worker-loop.js';
import { fleetConfigYaml } from '../fixtures/fleet-config.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { createBareRepo, gitSync, type TestRepo } from '../fixtures/git/repo.js';
import { nginxMissing, startHostNginx, type HostNginx } from '../fixtures/host-nginx.js';
import { makeJob } from '../fixtures/jobs.js';
import { checkDrift } from '../../lib/reconcile/drift.js';
import { fleetForConfig } from '../../lib/reconcile/fleet-for.js';
import { formatDrift } from '../../lib/reconcile/format-drift.js';
import { healEnvironment, onlyHosts } from '../../lib/reconcile/heal-environment.js';
import { reconcileEnvironment } from '../../lib/reconcile/reconcile-environment.js';
import { reconcileJobs } from '../../lib/reconcile/reconcile-jobs.js';
import type { DeployJob } from '../../lib/job.js';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../fixtures/sshd.js';

const CONF = 'nginx/nginx.conf';
const SOURCE = 'hosts/nginx.conf';
const EXTRA = 'hosts/extra.txt';
const EXTRA_TARGET = 'etc/extra.txt';

/** nginx.conf as the manifest repository holds it: a template whose `/` says `body`, and `/healthz` `health` (`sick`: 500 on hosts labelled sick). */
const nginxConf = (body: string, { sick = false, extra = '' } = {}) => `pid nginx.pid;
error_log logs/error.log warn;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    ${extra}
    server {
        listen {{host.address}}:{{host.labels.port}};
        location / { return 200 "${body} from {{host.name}}\\n"; }
        location /healthz { ${sick ? 'return {{#host.labels.sick}}500{{/host.labels.sick}}{{^host.labels.sick}}200{{/host.labels.sick}} "health\\n";' : 'return 200 "ok\\n";'} }
    }
}
`;

describe('managed files on real nginx hosts', { skip: nginxMissing() }, () => {
  let fleet: TestFleet;
  let repo: TestRepo;
  let ports: ReturnType<typeof makeDeployPorts>;
  const nginx = new Map<string, HostNginx>();
  const port = new Map<string, number>();
  const lines: string[] = [];
  const ctx: JobContext = {
    heartbeat: async () => {},
    attempts: 1,
    signal: new AbortController().signal,
    logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
  };
  const names = ['web-1', 'web-2', 'web-3'];

  const body = async (host: string) => {
    const h = fleet.host(host);
    return await fetch(`http://${h.address}:${port.get(host)}/`).then((r) => r.text());
  };
  const bytes = (host: string) => readFileSync(join(fleet.host(host).home, CONF), 'utf8');
  /** A person's push to the manifest repository, as GitLab sends it, routed and run by the worker. */
  const converge = async (
    sha: string,
    modified: string[],
    message: string,
    {
      removed = [] as string[],
      with: over = {} as Partial<typeof ports>,
      id,
    }: { removed?: string[]; with?: Partial<typeof ports>; id?: string } = {},
  ): Promise<Outcome> => {
    const push = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      after: sha,
      checkout_sha: sha,
      user_name: 'Ada Person',
      project: { path_with_namespace: 'ops/manifests' },
      commits: [{ id: sha, message, modified, removed, timestamp: new Date().toISOString() }],
    };
    const routed = routeEvent(parseGitlab('Push Hook', push) as SourceEvent, {
      config: ports.config,
      deliveryId: `d-${sha.slice(0, 8)}`,
      now: Date.now,
      ...(id ? { newId: () => id } : {}),
    });
    assert.ok('jobs' in routed, JSON.stringify(routed));
    assert.deepEqual(
      routed.jobs.map((j) => [j.environment, j.reason]),
      [['prod', 'converge']],
    );
    return await deploy(routed.jobs[0]!, ctx, { ...ports, ...over });
  };
  /** A person's commit of several changes at once (`null`: the file removed). */
  let clones = 0;
  const commit = (changes: Record<string, string | null>, message: string): string => {
    const clone = join(repo.root, `multi-${++clones}`);
    gitSync(repo.root, ['clone', '--quiet', repo.bare, clone]);
    for (const [file, content] of Object.entries(changes)) {
      if (content === null) gitSync(clone, ['rm', '--quiet', file]);
      else writeFileSync(join(clone, file), content);
    }
    gitSync(clone, ['add', '-A']);
    gitSync(clone, ['commit', '--quiet', '-m', message]);
    gitSync(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    return gitSync(clone, ['rev-parse', 'HEAD']).trim();
  };

  before(async () => {
    fleet = await startFleet({ hosts: 3 });
    for (const h of fleet.hosts) {
      port.set(h.name, await freePort(h.address));
      writeFileSync(join(h.home, 'nginx-port'), String(port.get(h.name)));
      nginx.set(h.name, startHostNginx(h, port.get(h.name)!, 'fjord_api_prod'));
    }
    await Promise.all([...nginx.values()].map((n) => n.ready()));
    repo = createBareRepo({
      'api/prod.yaml': 'image:\n  repository: registry.example.com/acme/api\n  tag: v0\n',
      [SOURCE]: nginxConf('v1'),
      [EXTRA]: 'extra\n',
      'hosts/motd.d/10-hello': 'hello\n',
      'hosts/motd.d/sub/20-world': 'world\n',
    });
    let yaml = fleetConfigYaml({
      fleet,
      repository: repo.bare,
      image: 'registry.example.com/acme/api',
      environments: `
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        hosts: [web-1, web-2, web-3]
        selfHeal: true
        files:
          - source: ${SOURCE}
            target: ${CONF}
            mode: "0640"
            template: true
            validate: [nginx, -t, -q, -c, "{file}"]
            reload: { nginx: { pidFile: nginx/nginx.pid } }
          - { source: ${EXTRA}, target: ${EXTRA_TARGET}, mode: "0600", prune: true, hosts: [web-1, web-2] }
          - { source: hosts/motd.d/, target: etc/motd.d }
        rollout:
          strategy: command
          command: { deploy: [[sh, -c, 'echo "$1" > deployed-tag', fjord-hook, "{tag}"]] }
          healthCheck: { command: [sh, -c, 'curl -fsS -o /dev/null "http://$FLEET_HOST_ADDRESS:$(cat nginx-port)/healthz"'], interval: 200ms, timeout: 3s }
          hostTimeout: 60s
`,
    });
    for (const h of fleet.hosts)
      yaml = yaml.replace(
        `hostKey: "${h.hostKey}" }`,
        `hostKey: "${h.hostKey}", labels: { port: "${port.get(h.name)}"${h.name === 'web-3' ? ', sick: "yes"' : ''} } }`,
      );
    const config = parseConfig(yaml);
    ports = makeDeployPorts({
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-files-')),
      env: { FJORD_SSH_KEY: fleet.privateKey.reveal() },
    });
    const first = await deploy(
      makeJob({ app: 'api', environment: 'prod', tag: 'v1', id: 'job-files-first', reason: 'manual' }),
      ctx,
      ports,
    );
    assert.equal(first.status, 'deployed', first.detail);
    for (const host of names) assert.equal(await body(host), `v1 from ${host}\n`);
  });
  after(async () => {
    await Promise.all([...nginx.values()].map((n) => n.stop()));
    await fleet?.stop();
    repo?.cleanup();
  });

  it('a merged nginx.conf change reaches every host, rendered for it, and nginx serves the new behaviour', async (t) => {
    const sha = repo.pushChange(SOURCE, nginxConf('v2'), 'nginx: say v2');
    const outcome = await converge(sha, [SOURCE], 'nginx: say v2');
    assert.equal(outcome.status, 'deployed', outcome.detail);
    const report = outcome.rollout as RolloutReport;
    assert.deepEqual(
      report.hosts.map((h) => h.status),
      ['updated', 'updated', 'updated'],
    );
    // Measured, not asserted: what a file-only converge costs per host (ms per step) and in all.
    t.diagnostic(
      `file converge ${report.durationMs} ms; per host ${JSON.stringify(Object.fromEntries(report.hosts.map((h) => [h.host, h.timings])))}`,
    );
    for (const host of names) {
      const h = fleet.host(host);
      assert.equal(await body(host), `v2 from ${host}\n`);
      assert.match(bytes(host), new RegExp(`listen ${h.address.replace(/\./g, '\\.')}:${port.get(host)};`));
      assert.equal((await import('node:fs')).statSync(join(h.home, CONF)).mode & 0o777, 0o640);
      assert.equal(existsSync(join(h.home, 'nginx/.nginx.conf.fjord-new')), false, 'no temp file left');
    }
    // The same commit again: every host already holds it.
    const again = await converge(sha, [SOURCE], 'nginx: say v2');
    assert.equal(again.status, 'noop', again.detail);
  });

  it("a config that fails nginx -t changes no host, and the report carries nginx's own error", async () => {
    const before = names.map(bytes);
    const sha = repo.pushChange(SOURCE, nginxConf('v-broken', { extra: 'bogus_directive on;' }), 'nginx: a typo');
    const outcome = await converge(sha, [SOURCE], 'nginx: a typo');
    assert.equal(outcome.status, 'failed', outcome.detail);
    const report = outcome.rollout as RolloutReport;
    assert.equal(report.failed?.step, 'validate');
    assert.equal(report.failed?.errorName, 'FileInvalid');
    assert.match(report.failed!.stderrTail, /unknown directive "bogus_directive"/);
    assert.match(outcome.detail!, /files\[0\] hosts\/nginx\.conf → nginx\/nginx\.conf failed validation/);
    assert.deepEqual(names.map(bytes), before, 'no host changed');
    for (const host of names) {
      assert.equal(await body(host), `v2 from ${host}\n`);
      assert.equal(
        existsSync(join(fleet.host(host).home, 'nginx/.nginx.conf.fjord-new')),
        false,
        `${host}: the rejected temp file is removed`,
      );
    }
  });

  it('a config that passes nginx -t but fails the health check is put back and reloaded on every host already changed', async () => {
    const before = names.map(bytes);
    const sha = repo.pushChange(SOURCE, nginxConf('v3', { sick: true }), 'nginx: v3 (web-3 is sick with it)');
    const outcome = await converge(sha, [SOURCE], 'nginx: v3');
    assert.equal(outcome.status, 'failed', outcome.detail);
    const report = outcome.rollout as RolloutReport;
    assert.equal(report.failed?.host, 'web-3');
    assert.equal(report.failed?.step, 'health');
    assert.deepEqual(
      report.hosts.map((h) => h.status),
      ['rolled-back', 'rolled-back', 'rolled-back'],
    );
    assert.deepEqual(names.map(bytes), before, 'the previous bytes are back on every host');
    // nginx was reloaded with them: every host serves v2 again.
    for (const host of names) assert.equal(await body(host), `v2 from ${host}\n`);
  });

  it('git revert of the changes converges back', async () => {
    const clone = join(repo.root, 'reverter');
    gitSync(repo.root, ['clone', '--quiet', repo.bare, clone]);
    const log = gitSync(clone, ['log', '--format=%H %s', '--', SOURCE]).trim().split('\n');
    const v2 = log.find((l) => l.endsWith('nginx: say v2'))!.split(' ')[0]!;
    gitSync(clone, ['revert', '--no-edit', `${v2}^..HEAD`]);
    gitSync(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    const sha = gitSync(clone, ['rev-parse', 'HEAD']).trim();
    const outcome = await converge(sha, [SOURCE], 'Revert "nginx: say v2"');
    assert.equal(outcome.status, 'deployed', outcome.detail);
    for (const host of names) assert.equal(await body(host), `v1 from ${host}\n`);
  });

  it('a hand edit on one host is reported as drift with a unified diff, and selfHeal restores it through the same path', async () => {
    const h2 = fleet.host('web-2');
    const inGit = bytes('web-2');
    writeFileSync(join(h2.home, CONF), inGit.replace('"v1 from web-2\\n"', '"hotfix by hand\\n"'));
    execFileSync(join(h2.home, 'bin', 'nginx'), ['-s', 'reload']);
    for (let i = 0; (await body('web-2')) !== 'hotfix by hand\n'; i++) {
      assert.ok(i < 400, 'nginx never served the hand edit');
      await sleep(25);
    }
    const fleetFor = fleetForConfig(ports.config, { FJORD_SSH_KEY: fleet.privateKey.reveal() }, repo.root);
    const report = await checkDrift({ config: ports.config, store: ports.store, fleetFor });
    assert.equal(report.inSync, false);
    const hosts = report.environments[0]!.hosts;
    assert.deepEqual(
      hosts.map((h) => [h.host, h.status]),
      [
        ['web-1', 'in-sync'],
        ['web-2', 'drifted'],
        ['web-3', 'in-sync'],
      ],
    );
    const drifted = hosts[1]!.files!;
    assert.deepEqual(
      drifted.filter((f) => f.status !== 'in-sync').map((f) => [f.target, f.status]),
      [[CONF, 'drifted']],
    );
    assert.deepEqual(
      drifted.map((f) => f.target),
      [CONF, EXTRA_TARGET, 'etc/motd.d/10-hello', 'etc/motd.d/sub/20-world'],
    );
    assert.match(drifted[0]!.diff!, /^--- git:hosts\/nginx\.conf\n\+\+\+ web-2:nginx\/nginx\.conf/m);
    assert.match(drifted[0]!.diff!, /^-.*return 200 "v1 from web-2\\n";/m);
    assert.match(drifted[0]!.diff!, /^\+.*return 200 "hotfix by hand\\n";/m);
    const text = formatDrift(report);
    assert.match(text, /web-2\s+drifted\s+\S+\s+\S+\s+files: nginx\/nginx\.conf drifted/);
    assert.match(text, /api\/prod web-2 nginx\/nginx\.conf \(git → host\):\n--- git:hosts\/nginx\.conf/);

    const heals: DeployJob[] = [];
    const reconcile = await reconcileEnvironment(reconcileJobs(ports.config, new Date())[0]!, ctx, {
      config: ports.config,
      store: ports.store,
      fleetFor,
      enqueue: async (j) => void heals.push(j),
    });
    assert.equal(reconcile.status, 'drifted', reconcile.detail);
    assert.match(reconcile.detail!, /web-2 drifted \(running v1, recorded; files: nginx\/nginx\.conf drifted\)/);
    assert.equal(heals.length, 1);
    const healed = await healEnvironment(heals[0]!, ctx, { deployPorts: ports, deploy, fleetFor });
    assert.equal(healed.status, 'deployed', healed.detail);
    assert.match(healed.detail!, /heal attempt 1\/3 of web-2: /);
    assert.equal(bytes('web-2'), inGit);
    assert.equal(await body('web-2'), 'v1 from web-2\n', 'reloaded with the bytes from git');
    assert.equal((await checkDrift({ config: ports.config, store: ports.store, fleetFor })).inSync, true);
  });

  it('a file change and an image change in one commit roll out together, in one pass per host', async () => {
    const events: RolloutEvent[] = [];
    const sha = commit(
      {
        'api/prod.yaml': 'image:\n  repository: registry.example.com/acme/api\n  tag: v2\n',
        [SOURCE]: nginxConf('v2-with-image'),
      },
      'api v2 with its nginx.conf',
    );
    const outcome = await converge(sha, ['api/prod.yaml', SOURCE], 'api v2 with its nginx.conf', {
      with: { onRolloutEvent: (e: RolloutEvent) => void events.push(e) },
    });
    assert.equal(outcome.status, 'deployed', outcome.detail);
    for (const host of names) {
      assert.equal(await body(host), `v2-with-image from ${host}\n`);
      assert.equal(readFileSync(join(fleet.host(host).home, 'deployed-tag'), 'utf8'), 'v2\n');
      const steps = events.flatMap((e) =>
        e.type === 'host-step' && e.host === host && e.status === 'start' ? [e.step] : [],
      );
      assert.equal(
        steps.filter((s) => s === 'lock').length,
        1,
        `${host}: one pass (one lock) for both: ${steps.join(' ')}`,
      );
      // Files first (validate → swap → reload), then the app.
      assert.ok(
        steps.indexOf('reload') >= 0 && steps.indexOf('reload') < steps.indexOf('hook'),
        `${host}: ${steps.join(' ')}`,
      );
    }
  });

  it('a managed file removed from git (prune: true) is removed from its hosts on the next converge', async () => {
    for (const host of ['web-1', 'web-2'])
      assert.equal(readFileSync(join(fleet.host(host).home, EXTRA_TARGET), 'utf8'), 'extra\n');
    assert.equal(
      existsSync(join(fleet.host('web-3').home, EXTRA_TARGET)),
      false,
      "web-3 is not in the file's host group",
    );
    const sha = commit({ [EXTRA]: null }, 'drop extra.txt');
    const outcome = await converge(sha, [], 'drop extra.txt', { removed: [EXTRA] });
    assert.equal(outcome.status, 'deployed', outcome.detail);
    for (const host of names) assert.equal(existsSync(join(fleet.host(host).home, EXTRA_TARGET)), false, host);
    assert.equal(
      (
        await checkDrift({
          config: ports.config,
          store: ports.store,
          fleetFor: fleetForConfig(ports.config, { FJORD_SSH_KEY: fleet.privateKey.reveal() }, repo.root),
        })
      ).inSync,
      true,
    );
  });

  it('a directory source puts each of its files under the target; a file added to it converges, a name outside the path grammar changes nothing', async () => {
    const read = (host: string, rel: string) => readFileSync(join(fleet.host(host).home, 'etc/motd.d', rel), 'utf8');
    for (const host of names)
      assert.deepEqual([read(host, '10-hello'), read(host, 'sub/20-world')], ['hello\n', 'world\n']);
    const added = commit({ 'hosts/motd.d/30-new': 'new\n' }, 'motd: add 30-new');
    const outcome = await converge(added, ['hosts/motd.d/30-new'], 'motd: add 30-new');
    assert.equal(outcome.status, 'deployed', outcome.detail);
    for (const host of names) assert.equal(read(host, '30-new'), 'new\n');

    const hostile = commit({ 'hosts/motd.d/$(reboot)': 'x\n' }, 'motd: a hostile name');
    const failed = await converge(hostile, ['hosts/motd.d/$(reboot)'], 'motd: a hostile name');
    assert.equal(failed.status, 'failed');
    assert.match(failed.detail!, /files\[2\]: "hosts\/motd\.d\/\$\(reboot\)" cannot be a host path/);
    assert.equal(failed.rollout, undefined, 'refused before any host was touched');
    commit({ 'hosts/motd.d/$(reboot)': null }, 'motd: drop the hostile name');
  });

  it('a redelivery after a worker died mid-rollout puts back the files its first delivery changed', async () => {
    const before = names.map(bytes);
    const sha = repo.pushChange(SOURCE, nginxConf('v5', { sick: true }), 'nginx: v5 (web-3 is sick with it)');
    // The first delivery changed web-1 and died (its rollout of web-1 alone stands for it).
    const first = await converge(sha, [SOURCE], 'nginx: v5', {
      id: 'job-files-redelivered',
      with: onlyHosts(ports, ['web-1']),
    });
    assert.equal(first.status, 'deployed', first.detail);
    assert.equal(await body('web-1'), 'v5 from web-1\n');
    // The redelivery finds web-1 already as git says, changes web-2, fails on web-3: all three go back.
    const again = await converge(sha, [SOURCE], 'nginx: v5', { id: 'job-files-redelivered' });
    assert.equal(again.status, 'failed', again.detail);
    assert.deepEqual(
      (again.rollout as RolloutReport).hosts.map((h) => h.status),
      ['rolled-back', 'rolled-back', 'rolled-back'],
    );
    assert.deepEqual(names.map(bytes), before);
    for (const host of names) assert.match(await body(host), /^v2-with-image from /);
  });
});

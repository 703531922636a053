// The proxy path's commands as data, and the nginx adapter's scripts run against a REAL local nginx
// (Debian's /usr/sbin/nginx through the host-nginx fixture, without SSH): a switch is atomic, validated,
// put back when nginx rejects it, and done only once nginx took it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../lib/config/schema.js';
import { deployCommands } from '../../lib/rollout/host-commands.js';
import type { HostTarget } from '../../lib/rollout/host-command-types.js';
import { nginxSwitch } from '../../lib/rollout/proxy/nginx.js';
import { keptRollbackCommands } from '../../lib/rollout/proxy/proxy-commands.js';
import { parseSlotAddress } from '../../lib/rollout/proxy/slot-address.js';
import { upstreamName } from '../../lib/rollout/proxy/traffic-switch.js';
import { joinArgv } from '../../lib/ssh/quote.js';
import type { FleetHost } from '../fixtures/fleet.js';
import { nginxMissing, startHostNginx, type HostNginx } from '../fixtures/host-nginx.js';
import { freePort } from '../fixtures/sshd.js';
import { IMAGE, rolloutOf } from './helpers.js';

const proxy = { containerPort: 8080, hostPorts: [18080, 18081], drain: '500ms' };
const hc = { port: 8080, path: '/healthz' };
const target = (rollout: Record<string, unknown>, tag = 'v2'): HostTarget => ({
  app: 'api',
  environment: 'prod',
  jobId: 'job-1',
  image: IMAGE,
  tag,
  rollout: rolloutOf(rollout),
  stateDir: '.fjord',
});
const lines = (cmds: { step: string; argv: string[] }[]) =>
  cmds.map((c) => `${c.step}: ${c.argv[0] === 'sh' ? `sh ${c.argv.slice(3).join(' ')}` : joinArgv(c.argv)}`);
const onSlot = (slot: number, tag = 'v1') => ({
  ref: `${IMAGE}:${tag}`,
  state: 'running',
  container: 'api-prod',
  labels: { 'fjord.slot': String(slot) },
});

describe('proxy config', () => {
  const parse = (rollout: Record<string, unknown>) =>
    configSchema.safeParse({
      manifest: { backend: 'git', repository: './m.git' },
      apps: {
        api: {
          source: { project: 'acme/api' },
          image: IMAGE,
          environments: { prod: { manifest: { file: 'p.yaml', path: 'image.tag' }, rollout } },
        },
      },
    });
  const issues = (rollout: Record<string, unknown>) => {
    const r = parse(rollout);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults: nginx, 127.0.0.1, /run/nginx.pid, 2 s drain', () => {
    assert.deepEqual(rolloutOf({ healthCheck: hc, proxy }).proxy, {
      kind: 'nginx',
      containerPort: 8080,
      hostPorts: [18080, 18081],
      bind: '127.0.0.1',
      pidFile: '/run/nginx.pid',
      drain: 500,
    });
  });

  it('needs a health check, the docker strategy, no fixed ports, two different slots and a plain bind', () => {
    const at = 'apps.api.environments.prod.rollout';
    assert.deepEqual(issues({ proxy }), [
      `${at}.proxy: needs rollout.healthCheck (the proxy switches only to a container that passed it)`,
    ]);
    assert.deepEqual(issues({ healthCheck: hc, proxy, container: { ports: ['80:8080'] } }), [
      `${at}.container.ports: must be empty with rollout.proxy (fjord publishes proxy.containerPort on a slot of proxy.hostPorts)`,
    ]);
    assert.deepEqual(
      issues({ healthCheck: hc, proxy, strategy: 'compose', compose: { directory: '/srv', service: 'api' } }),
      [`${at}.proxy: needs rollout.strategy docker`],
    );
    assert.deepEqual(issues({ healthCheck: hc, proxy: { ...proxy, hostPorts: [18080, 18080] } }), [
      `${at}.proxy.hostPorts: the two host ports must differ`,
    ]);
    assert.equal(issues({ healthCheck: hc, proxy: { ...proxy, bind: '0.0.0.0; rm -rf /' } }).length, 1);
    assert.equal(issues({ healthCheck: hc, proxy: { ...proxy, upstreamFile: '/etc/nginx/$(id).conf' } }).length, 1);
  });
});

describe('docker strategy behind a proxy', () => {
  const rollout = { healthCheck: hc, proxy, container: { stopTimeout: '5s' } };

  it('first deploy: proxy check before anything, the first slot, then switch and rename', () => {
    const cmds = deployCommands(target(rollout), undefined);
    assert.deepEqual(lines(cmds.before).slice(0, 3), [
      'proxy: sh fjord-proxy-check /run/nginx.pid',
      `pull: docker pull ${IMAGE}:v2`,
      'start: docker rm -f api-prod-next',
    ]);
    assert.match(
      lines(cmds.before)[3]!,
      /^start: docker run -d --name api-prod-next .* -p 127\.0\.0\.1:18080:8080 .*--label 'fjord\.job=job-1' --label 'fjord\.slot=18080' /,
    );
    assert.deepEqual(cmds.probes, { container: 'api-prod-next', containerPort: 8080 });
    assert.deepEqual(lines(cmds.after).slice(0, 2), [
      'switch: sh fjord-proxy-switch /etc/nginx/fjord/api-prod.conf fjord_api_prod /run/nginx.pid  api-prod-next 8080',
      'switch: docker rename api-prod-next api-prod',
    ]);
    assert.deepEqual(
      cmds.after.map((c) => c.step),
      ['switch', 'switch', 'record'],
    );
  });

  it('next deploy: the other slot; the old container drains, stops within its grace and goes, after the switch', () => {
    const cmds = deployCommands({ ...target(rollout), pulled: true }, onSlot(18080));
    assert.equal(cmds.before[0]!.step, 'proxy');
    assert.ok(!cmds.before.some((c) => c.step === 'pull' || c.step === 'stop'));
    assert.match(lines(cmds.before).at(-1)!, / -p 127\.0\.0\.1:18081:8080 .*'fjord\.slot=18081'/);
    assert.deepEqual(lines(cmds.after).slice(0, 5), [
      'switch: sh fjord-proxy-switch /etc/nginx/fjord/api-prod.conf fjord_api_prod /run/nginx.pid  api-prod-next 8080',
      'drain: sleep 0.500',
      'stop: docker stop -t 5 api-prod',
      'switch: docker rm -f api-prod',
      'switch: docker rename api-prod-next api-prod',
    ]);
    // Back to the first slot from the second; `bind: engine` leaves the address to dockerd's --ip.
    const engine = deployCommands(
      target({ ...rollout, proxy: { ...proxy, bind: 'engine', upstreamFile: 'nginx/fjord/api.conf' } }),
      onSlot(18081),
    );
    assert.match(lines(engine.before).at(-1)!, / -p 18080:8080 .*'fjord\.slot=18080'/);
    assert.match(lines(engine.after)[0]!, /^switch: sh fjord-proxy-switch nginx\/fjord\/api\.conf /);
  });

  it('a rollback onto a still-running old container only points the proxy back and removes the new one', () => {
    const record = { step: 'record' as const, argv: ['true'] };
    assert.deepEqual(lines(keptRollbackCommands(target(rollout), onSlot(18080, 'v1'), `${IMAGE}:v1`, record)!), [
      'proxy: sh fjord-proxy-check /run/nginx.pid',
      'switch: sh fjord-proxy-switch /etc/nginx/fjord/api-prod.conf fjord_api_prod /run/nginx.pid  api-prod 8080',
      'drain: sleep 0.500',
      'remove: docker rm -f api-prod-next',
      'record: true',
    ]);
    // The old container runs another image, or does not run: a full deploy of the previous image instead.
    assert.equal(keptRollbackCommands(target(rollout), onSlot(18080, 'v2'), `${IMAGE}:v1`, record), undefined);
    assert.equal(
      keptRollbackCommands(target(rollout), { ...onSlot(18080, 'v1'), state: 'exited' }, `${IMAGE}:v1`, record),
      undefined,
    );
    assert.equal(keptRollbackCommands(target({}), onSlot(18080, 'v1'), `${IMAGE}:v1`, record), undefined);
  });

  it('reads the slot address docker reports', () => {
    assert.deepEqual(parseSlotAddress('127.0.11.2:18080\n'), { host: '127.0.11.2', port: 18080 });
    assert.deepEqual(parseSlotAddress('[::1]:18080'), { host: '[::1]', port: 18080 });
    assert.equal(parseSlotAddress('Error: No public port'), undefined);
    assert.equal(upstreamName('my-app', 'pre-prod'), 'fjord_my_app_pre_prod');
  });
});

describe('nginx adapter against a real nginx', { skip: nginxMissing() }, () => {
  const run = promisify(execFile);
  let home: string;
  let nginx: HostNginx;
  let exec: (argv: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  let sw: ReturnType<typeof nginxSwitch>;
  let upstreamPath: string;
  const workers = () =>
    run('pgrep', ['-P', readFileSync(join(home, nginx.pidFile), 'utf8').trim(), '-f', 'worker process$']).then((r) =>
      r.stdout.trim(),
    );

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'fjord-nginx-'));
    mkdirSync(join(home, 'bin'));
    const host = { name: 'local', address: '127.0.0.1', port: 0, user: 'root', hostKey: '', home } as FleetHost;
    nginx = startHostNginx(host, await freePort('127.0.0.1'), 'fjord_api_prod');
    await nginx.ready();
    upstreamPath = join(home, nginx.upstreamFile);
    sw = nginxSwitch({ upstreamFile: nginx.upstreamFile, upstream: 'fjord_api_prod', pidFile: nginx.pidFile });
    // As an SSH session on the host would: in HOME, with $HOME/bin (the nginx wrapper) first on PATH.
    exec = (argv) =>
      run(argv[0]!, argv.slice(1), {
        cwd: home,
        env: { ...process.env, HOME: home, PATH: `${home}/bin:${process.env.PATH}` },
      }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
  });
  after(async () => {
    await nginx?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('switches atomically and returns once the old workers were told to go; an unchanged upstream is not reloaded', async () => {
    assert.equal((await exec(sw.check())).code, 0);
    const old = await workers();
    const r = await exec(sw.switchTo('127.0.0.1:18080'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'upstream fjord_api_prod -> 127.0.0.1:18080');
    assert.equal(readFileSync(upstreamPath, 'utf8'), 'upstream fjord_api_prod {\n    server 127.0.0.1:18080;\n}\n');
    const now = await workers();
    assert.ok(now && old.split('\n').every((w) => !now.split('\n').includes(w)), `${old} / ${now}`);
    const again = await exec(sw.switchTo('127.0.0.1:18080'));
    assert.equal(again.stdout.trim(), 'upstream fjord_api_prod already at 127.0.0.1:18080');
    assert.equal(await workers(), now);
  });

  it('a config nginx -t rejects is put back, byte for byte, and nginx keeps running the previous one', async () => {
    const previous = readFileSync(upstreamPath, 'utf8');
    const before = await workers();
    const r = await exec(sw.switchTo('127.0.0.1:99999'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid port|host not found|invalid/);
    assert.match(
      r.stderr,
      /nginx -t rejected upstream fjord_api_prod -> 127\.0\.0\.1:99999; the previous upstream file is back/,
    );
    assert.equal(readFileSync(upstreamPath, 'utf8'), previous);
    assert.equal(await workers(), before);
  });

  it('nginx down: the check fails, saying so', async () => {
    await nginx.stop();
    try {
      const r = await exec(sw.check());
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), 'nginx is not running: no live nginx process in its pid file nginx/nginx.pid');
      const s = await exec(sw.switchTo('127.0.0.1:18081'));
      assert.equal(s.code, 1);
      assert.equal(readFileSync(upstreamPath, 'utf8'), 'upstream fjord_api_prod {\n    server 127.0.0.1:18080;\n}\n');
    } finally {
      nginx.start();
      await nginx.ready();
    }
  });
});

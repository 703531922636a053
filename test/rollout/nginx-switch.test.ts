// The nginx TrafficSwitch against a real nginx on a real sshd host: the commands fjord runs, joined; a
// switch that nginx -t rejects puts the previous upstream back and leaves nginx serving it; the check
// fails, naming why, when nginx is down.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nginxSwitch } from '../../lib/rollout/proxy/nginx.js';
import { nextSlot, proxyDockerCommands } from '../../lib/rollout/proxy/proxy-commands.js';
import { upstreamName } from '../../lib/rollout/proxy/traffic-switch.js';
import { joinArgv } from '../../lib/ssh/quote.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { nginxMissing, startHostNginx, type HostNginx } from '../fixtures/host-nginx.js';
import { freePort } from '../fixtures/sshd.js';
import { rolloutOf, sshFleet } from './helpers.js';

describe('proxy commands', () => {
  const rollout = rolloutOf({ proxy: { containerPort: 8080, hostPorts: [18080, 18081], drain: '1500ms' }, container: { stopTimeout: '3s' } });
  const t = { app: 'api', environment: 'prod', jobId: 'j1', ref: 'r.example/acme/api:v2', tag: 'v2', rollout: { ...rollout, proxy: rollout.proxy! }, pulled: true };
  const lines = (cmds: { step: string; argv: string[] }[]) => cmds.map((c) => `${c.step}: ${joinArgv(c.argv).replace(/sh -c '.*' (fjord-proxy-\w+)/, 'sh -c SCRIPT $1')}`);

  it('starts on the free slot, checks the proxy first, switches, drains, then stops and removes the old one', () => {
    const current = { ref: 'r.example/acme/api:v1', container: 'api-prod', state: 'running', labels: { 'fjord.slot': '18080' } };
    const cmds = proxyDockerCommands(t, current, { step: 'record', argv: ['true'] });
    assert.equal(nextSlot(t.rollout.proxy, current), 18081);
    assert.equal(cmds.healthPort, 18081);
    assert.deepEqual(lines(cmds.before), [
      'proxy: sh -c SCRIPT fjord-proxy-check /run/nginx.pid',
      'start: docker rm -f api-prod-next',
      "start: docker run -d --name api-prod-next --restart unless-stopped --stop-timeout 3 -p 127.0.0.1:18081:8080 --label 'fjord.app=api' --label 'fjord.environment=prod' --label 'fjord.tag=v2' --label 'fjord.job=j1' --label 'fjord.slot=18081' r.example/acme/api:v2",
    ]);
    assert.deepEqual(lines(cmds.after), [
      'switch: sh -c SCRIPT fjord-proxy-switch /etc/nginx/fjord/api-prod.conf fjord_api_prod \'\' api-prod-next 8080',
      'drain: sleep 1.500',
      'stop: docker stop -t 3 api-prod',
      'switch: docker rm -f api-prod',
      'switch: docker rename api-prod-next api-prod',
      'record: true',
    ]);
    // First deploy: slot one, nothing to drain or stop.
    assert.deepEqual(lines(proxyDockerCommands(t, undefined, { step: 'record', argv: ['true'] }).after).map((l) => l.split(':')[0]), ['switch', 'switch', 'record']);
    assert.equal(upstreamName('my-app', 'eu-prod'), 'fjord_my_app_eu_prod');
  });
});

describe('nginx switch on a real nginx', { skip: nginxMissing() }, () => {
  let fleet: TestFleet;
  let nginx: HostNginx;
  before(async () => {
    fleet = await startFleet({ hosts: 1 });
    nginx = startHostNginx(fleet.hosts[0]!, await freePort(fleet.hosts[0]!.address), 'fjord_api_prod');
    await nginx.ready();
  });
  after(async () => {
    await nginx?.stop();
    await fleet?.stop();
  });

  it('switches, refuses a config nginx -t rejects (the previous upstream stays), and the check sees nginx down', async () => {
    const sw = nginxSwitch({ upstreamFile: nginx.upstreamFile, upstream: 'fjord_api_prod', pidFile: nginx.pidFile });
    const file = join(fleet.hosts[0]!.home, nginx.upstreamFile);
    const ssh = sshFleet(fleet);
    try {
      const s = await ssh.session('web-1');
      assert.equal((await s.exec(sw.check())).exitCode, 0);
      await s.run(sw.switchTo('127.0.0.1:18080'));
      assert.equal(readFileSync(file, 'utf8'), 'upstream fjord_api_prod {\n    server 127.0.0.1:18080;\n}\n');
      const bad = await s.exec(sw.switchTo('127.0.0.1:99999'));
      assert.notEqual(bad.exitCode, 0);
      assert.match(bad.stderr, /invalid port[\s\S]*nginx rejected the new upstream; the previous one is back/);
      assert.equal(readFileSync(file, 'utf8'), 'upstream fjord_api_prod {\n    server 127.0.0.1:18080;\n}\n');
      assert.equal((await s.exec(sw.check())).exitCode, 0, 'nginx still runs with the previous config');
      await nginx.stop();
      const down = await s.exec(sw.check());
      assert.notEqual(down.exitCode, 0);
      assert.match(down.stderr, /nginx is not running \(no live process in pid file nginx\/nginx\.pid\)/);
    } finally {
      await ssh.close();
    }
  });
});

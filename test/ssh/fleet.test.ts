// The Fleet port over real sshd hosts: lazy sessions, reuse, reconnect after a loss, close.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { Secret } from '../../lib/secret.js';
import { HostUnreachable, openFleet, sshAuthFromConfig, sshHostsFromConfig, UnknownHost } from '../../lib/ssh/index.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { eventually, OPTIONS } from './helpers.js';

describe('fleet', () => {
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet({ hosts: 3 });
  });
  after(() => fleet?.stop());

  const accepted = (name: string) => (fleet.log(name).match(/Accepted publickey/g) ?? []).length;

  it('connects lazily, once per host, and runs commands on each host', async () => {
    const before = fleet.hosts.map((h) => accepted(h.name));
    const ssh = openFleet(fleet.hosts, fleet.auth, OPTIONS);
    try {
      assert.deepEqual(
        fleet.hosts.map((h) => accepted(h.name)),
        before,
      ); // nothing yet
      const [a, b] = await Promise.all([ssh.session('web-1'), ssh.session('web-1')]);
      assert.equal(a, b);
      const names = await Promise.all(
        fleet.hosts.map(async (h) =>
          (await (await ssh.session(h.name)).exec(['sh', '-c', 'echo $FLEET_HOST'])).stdout.trim(),
        ),
      );
      assert.deepEqual(names, ['web-1', 'web-2', 'web-3']);
      assert.deepEqual(
        fleet.hosts.map((h) => accepted(h.name) - before[fleet.hosts.indexOf(h)]!),
        [1, 1, 1],
      );
      await assert.rejects(ssh.session('web-9'), UnknownHost);
    } finally {
      await ssh.close();
    }
  });

  it('reconnects after a lost connection, and retries a failed connect', async () => {
    const ssh = openFleet(fleet.hosts, fleet.auth, OPTIONS);
    try {
      const first = await ssh.session('web-2');
      await fleet.stopHost('web-2');
      assert.ok(await eventually(() => first.closed));
      await assert.rejects(
        ssh.session('web-2').then((s) => s.exec(['true'])),
        HostUnreachable,
      );
      await fleet.startHost('web-2');
      const second = await ssh.session('web-2');
      assert.notEqual(second, first);
      assert.equal((await second.exec(['echo', 'back'])).stdout, 'back\n');
    } finally {
      await ssh.close();
    }
  });

  it('closes every session', async () => {
    const ssh = openFleet(fleet.hosts, fleet.auth, OPTIONS);
    const sessions = await Promise.all(fleet.hosts.map((h) => ssh.session(h.name)));
    await ssh.close();
    assert.ok(sessions.every((s) => s.closed));
  });

  it('builds hosts and credentials from fjord.yaml', async () => {
    const h = fleet.hosts[0]!;
    const config = parseConfig(`
manifest: { backend: git, repository: ./m.git }
ssh: { user: deploy, privateKeyEnv: DEPLOY_KEY, passphraseEnv: DEPLOY_PASS }
hosts:
  web-1: { address: ${h.address}, port: ${h.port}, user: ${h.user}, hostKey: "${h.hostKey}" }
  web-2: { address: 127.0.0.9, hostKey: "${h.hostKey}" }
apps: {}
`);
    const key = fleet.privateKey.reveal();
    const auth = sshAuthFromConfig(config.ssh, {
      DEPLOY_KEY: key.replaceAll('\n', '\\n'),
      SSH_AUTH_SOCK: '/tmp/agent.sock',
    });
    assert.ok(auth.privateKey instanceof Secret);
    assert.equal(auth.privateKey.reveal(), key);
    assert.equal(auth.passphrase, undefined);
    assert.equal(auth.agent, '/tmp/agent.sock');
    const dir = mkdtempSync(join(tmpdir(), 'fjord-key-'));
    writeFileSync(join(dir, 'id_ed25519'), key);
    const fromFile = sshAuthFromConfig(
      { ...config.ssh, privateKeyEnv: undefined, privateKeyFile: 'id_ed25519', agent: false },
      { SSH_AUTH_SOCK: '/x' },
      dir,
    );
    assert.equal(fromFile.privateKey?.reveal(), key);
    assert.equal(fromFile.agent, undefined);
    assert.throws(
      () => sshAuthFromConfig({ ...config.ssh, privateKeyEnv: undefined, privateKeyFile: 'missing' }, {}, dir),
      /ssh.privateKeyFile: cannot read .*missing \(ENOENT\)/,
    );
    rmSync(dir, { recursive: true });
    const hosts = sshHostsFromConfig(config);
    assert.deepEqual(
      hosts.map((x) => [x.name, x.user, x.port]),
      [
        ['web-1', h.user, h.port],
        ['web-2', 'deploy', 22],
      ],
    );
    const ssh = openFleet(hosts, { privateKey: auth.privateKey }, OPTIONS);
    try {
      assert.equal((await (await ssh.session('web-1')).exec(['pwd'])).stdout, `${h.home}\n`);
    } finally {
      await ssh.close();
    }
  });
});

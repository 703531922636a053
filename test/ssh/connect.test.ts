// Connecting: pinned host keys, unreachable hosts, authentication (key, passphrase, agent), against real sshd.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { Secret } from '../../lib/secret.js';
import {
  AuthFailed,
  connect,
  fingerprintOfPublicKey,
  HostKeyMismatch,
  HostUnreachable,
  type SshHost,
} from '../../lib/ssh/index.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { eventually, OPTIONS } from './helpers.js';

describe('ssh connect', () => {
  let fleet: TestFleet;
  const dir = mkdtempSync(join(tmpdir(), 'fjord-ssh-keys-'));
  const keygen = (name: string, passphrase = '', type = 'ed25519') => {
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', join(dir, name)]);
    return {
      privateKey: readFileSync(join(dir, name), 'utf8'),
      publicKey: readFileSync(join(dir, `${name}.pub`), 'utf8'),
    };
  };
  const accepted = (name: string) => (fleet.log(name).match(/Accepted publickey/g) ?? []).length;
  const agents: ChildProcess[] = [];
  const startAgent = async (name: string, keys: string[]) => {
    const sock = join(dir, `${name}.sock`);
    agents.push(spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' }));
    assert.ok(await eventually(() => existsSync(sock)));
    execFileSync('ssh-add', ['-q', ...keys.map((k) => join(dir, k))], {
      env: { ...process.env, SSH_AUTH_SOCK: sock },
      stdio: 'ignore',
    });
    return sock;
  };
  let silent: Server | undefined;

  before(async () => {
    fleet = await startFleet({ hosts: 2 });
  });
  after(async () => {
    for (const agent of agents) agent.kill('SIGKILL');
    silent?.close();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('computes fingerprints exactly as ssh-keygen -lf prints them', () => {
    for (const type of ['ed25519', 'rsa', 'ecdsa']) {
      const { publicKey } = keygen(`fp-${type}`, '', type);
      const printed = execFileSync('ssh-keygen', ['-lf', join(dir, `fp-${type}.pub`)], { encoding: 'utf8' }).split(
        ' ',
      )[1];
      assert.equal(fingerprintOfPublicKey(publicKey), printed, type);
    }
  });

  it('aborts on a host key mismatch before anything runs', async () => {
    const host = fleet.hosts[0]!;
    const oldPin = host.hostKey;
    const newPin = await fleet.rotateHostKey(host.name);
    const before = accepted(host.name);
    const pinned: SshHost = { ...host, hostKey: oldPin };
    const err = await connect(pinned, fleet.auth, OPTIONS)
      .then((s) => s.exec(['touch', 'marker']).then(() => s))
      .catch((e: unknown) => e);
    assert.ok(err instanceof HostKeyMismatch, String(err));
    assert.equal(err.host, host.name);
    assert.equal(err.expected, oldPin);
    assert.equal(err.actual, newPin);
    assert.equal(err.keyType, 'ssh-ed25519');
    assert.match(err.message, new RegExp(`expected ${oldPin.replace(/[+/]/g, '\\$&')}, got`));
    assert.equal(existsSync(join(host.home, 'marker')), false);
    // The key is checked during key exchange, before authentication: sshd never accepted a login.
    assert.equal(accepted(host.name), before);
    const s = await connect(host, fleet.auth, OPTIONS); // the new pin works
    await s.close();
  });

  it('refuses a host without a well-formed pin without connecting', async () => {
    for (const hostKey of ['', 'MD5:aa:bb', 'SHA256:short']) {
      await assert.rejects(connect({ ...fleet.hosts[1]!, hostKey }, fleet.auth, OPTIONS), HostKeyMismatch);
    }
  });

  it('reports a stopped host as HostUnreachable quickly', async () => {
    const host = fleet.hosts[1]!;
    await fleet.stopHost(host.name);
    try {
      const t0 = performance.now();
      const err = await connect(host, fleet.auth, OPTIONS).catch((e: unknown) => e);
      assert.ok(err instanceof HostUnreachable, String(err));
      assert.equal(err.reason, 'connection refused');
      assert.match(err.message, new RegExp(`^host web-2 \\(${host.address}:${host.port}\\) unreachable`));
      assert.ok(performance.now() - t0 < 1000);
    } finally {
      await fleet.startHost(host.name);
    }
  });

  it('gives up on a host that accepts TCP but never speaks SSH, at the connect timeout', async () => {
    silent = createServer(() => undefined);
    await new Promise<void>((r) => silent!.listen({ host: '127.0.0.1', port: 0 }, r));
    const port = (silent.address() as { port: number }).port;
    const t0 = performance.now();
    const err = await connect({ ...fleet.hosts[0]!, address: '127.0.0.1', port }, fleet.auth, {
      ...OPTIONS,
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e);
    const took = performance.now() - t0;
    assert.ok(err instanceof HostUnreachable, String(err));
    assert.match(err.reason, /no answer within 300 ms \(TCP connected/);
    assert.ok(took >= 290 && took < 2000, `took ${took}`);
  });

  it('reports an unknown key as AuthFailed', async () => {
    const { privateKey } = keygen('stranger');
    const err = await connect(fleet.hosts[0]!, { privateKey: new Secret(privateKey) }, OPTIONS).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof AuthFailed, String(err));
    assert.ok(!err.message.includes('PRIVATE KEY'));
  });

  it('uses a passphrase-protected key, and fails clearly without the passphrase', async () => {
    const passphrase = new Secret('correct horse battery staple');
    const { privateKey, publicKey } = keygen('locked', passphrase.reveal());
    fleet.authorizeKey(publicKey);
    const key = new Secret(privateKey);
    const s = await connect(fleet.hosts[0]!, { privateKey: key, passphrase }, OPTIONS);
    assert.equal((await s.exec(['echo', 'ok'])).stdout, 'ok\n');
    await s.close();
    for (const auth of [{ privateKey: key }, { privateKey: key, passphrase: new Secret('wrong passphrase!') }]) {
      const err = await connect(fleet.hosts[0]!, auth, OPTIONS).catch((e: unknown) => e);
      assert.ok(err instanceof AuthFailed, String(err));
      assert.match(err.message, /could not be read/);
      assert.ok(!err.message.includes('wrong passphrase!') && !err.message.includes('PRIVATE KEY'));
    }
  });

  it('authenticates through ssh-agent', async () => {
    const { publicKey } = keygen('agent-key');
    fleet.authorizeKey(publicKey);
    const s = await connect(fleet.hosts[0]!, { agent: await startAgent('good-agent', ['agent-key']) }, OPTIONS);
    assert.equal((await s.exec(['echo', 'via agent'])).stdout, 'via agent\n');
    await s.close();
  });

  it('reports an agent with too many wrong keys (sshd disconnects at MaxAuthTries) as AuthFailed', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `stranger-${i}`);
    for (const n of names) keygen(n);
    const err = await connect(fleet.hosts[0]!, { agent: await startAgent('bad-agent', names) }, OPTIONS).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof AuthFailed, String(err));
  });
});

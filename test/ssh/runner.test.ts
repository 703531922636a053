// The SSH runner against real sshd processes: exec, exit codes, quoting, timeouts, connection reuse.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { Secret } from '../../lib/secret.js';
import { CommandFailed, CommandTimeout, ConnectionLost, connect, type SshSession } from '../../lib/ssh/index.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { alive, eventually, median, OPTIONS } from './helpers.js';

const HOSTILE = [
  '',
  ' ',
  "it's",
  '"q"',
  '; touch pwned',
  '$(touch pwned)',
  '`touch pwned`',
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile value, a shell expansion on purpose
  '${PATH}',
  '&& touch pwned',
  '| tee pwned',
  '> pwned',
  'two\nlines\n',
  '\ttab\r',
  '*',
  '~',
  '#x',
  'a=b',
  '\\',
  '!!',
  '-n',
  'ünï ✓ 日本 🚀',
];

describe('ssh runner', () => {
  let fleet: TestFleet;
  let session: SshSession;
  before(async () => {
    fleet = await startFleet({ hosts: 2 });
    session = await connect(fleet.hosts[0]!, fleet.auth, OPTIONS);
  });
  after(async () => {
    await session?.close();
    await fleet?.stop();
  });

  it('runs a command in the host own HOME and returns stdout, stderr and exit code', async () => {
    const r = await session.exec(['sh', '-c', 'pwd; echo oops >&2; exit 3']);
    assert.equal(r.stdout, `${fleet.hosts[0]!.home}\n`);
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.exitCode, 3);
    const other = await connect(fleet.hosts[1]!, fleet.auth, OPTIONS);
    try {
      assert.equal((await other.exec(['pwd'])).stdout, `${fleet.hosts[1]!.home}\n`);
    } finally {
      await other.close();
    }
  });

  it('run() throws CommandFailed with host, step, argv, exit code and stderr tail', async () => {
    const argv = ['sh', '-c', 'echo first >&2; echo "no such image" >&2; exit 42'];
    const err = await session.run(argv, { step: 'pull' }).then(
      () => assert.fail('expected CommandFailed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CommandFailed);
    assert.equal(err.host, 'web-1');
    assert.equal(err.step, 'pull');
    assert.deepEqual(err.argv, argv);
    assert.equal(err.exitCode, 42);
    assert.equal(err.stderrTail, 'first\nno such image');
    assert.match(err.message, /^host web-1: step pull: `sh -c .*` exited 42: no such image$/);
    assert.equal((await session.run(['true'])).exitCode, 0);
  });

  it('a failed command never shows container.env values or secrets, in its message or its argv', async () => {
    const secret = new Secret('glpat-runner-secret-0123');
    // The shape of `docker run`'s environment flags, as positional words of a failing shell.
    const argv = [
      'sh',
      '-c',
      'exit 5',
      'sh',
      '-e',
      'DB_PASSWORD=pw',
      '--env',
      'API_KEY=k3y',
      '--env=SHORT=ab',
      '-eX=1',
      `--token=${secret.reveal()}`,
      '-e',
      'KEEP',
    ];
    const err = await session.run(argv, { step: 'start' }).then(
      () => assert.fail('expected CommandFailed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CommandFailed);
    const shown = `${err.message}\n${JSON.stringify(err.argv)}\n${JSON.stringify(err)}`;
    for (const value of ['=pw', 'k3y', '=ab', 'X=1', secret.reveal()])
      assert.ok(!shown.includes(value), `${value} shown in ${shown}`);
    assert.deepEqual(err.argv.slice(4), [
      '-e',
      'DB_PASSWORD=[redacted]',
      '--env',
      'API_KEY=[redacted]',
      '--env=SHORT=[redacted]',
      '-eX=[redacted]',
      '--token=[redacted]',
      '-e',
      'KEEP',
    ]);
    assert.match(err.message, /`sh -c 'exit 5' sh -e 'DB_PASSWORD=\[redacted\]' .*` exited 5$/);
  });

  it('passes every hostile argument byte-exact (printf %s) and never runs it', async () => {
    for (const arg of HOSTILE)
      assert.equal((await session.exec(['printf', '%s', arg])).stdout, arg, JSON.stringify(arg));
    const all = await session.exec(['printf', '%s\\0', ...HOSTILE]);
    assert.deepEqual(all.stdout.split('\0').slice(0, -1), HOSTILE);
    assert.equal(existsSync(join(fleet.hosts[0]!.home, 'pwned')), false);
  });

  it('passes stdin and per-command environment', async () => {
    const input = Buffer.from('line 1\n\0binary\xff\nünï\n', 'latin1');
    const r = await session.exec(['sh', '-c', 'cat | od -An -tx1'], { stdin: input });
    assert.equal(r.stdout.replace(/\s+/g, ''), input.toString('hex'));
    const env = await session.exec(['sh', '-c', 'printf %s "$TAG_VALUE"'], { env: { TAG_VALUE: HOSTILE.join('|') } });
    assert.equal(env.stdout, HOSTILE.join('|'));
  });

  it('kills the remote process tree on timeout and keeps the session usable', async () => {
    const started = performance.now();
    const script = 'echo $$ > tree.pid; sleep 30 & echo $! > child.pid; wait';
    const err = await session.exec(['sh', '-c', script], { timeoutMs: 700, step: 'health' }).catch((e: unknown) => e);
    assert.ok(err instanceof CommandTimeout, String(err));
    assert.equal(err.step, 'health');
    assert.ok(performance.now() - started < 5000);
    const pids = ['tree.pid', 'child.pid'].map((f) => Number(readFileSync(join(fleet.hosts[0]!.home, f), 'utf8')));
    assert.ok(await eventually(() => pids.every((p) => !alive(p))), `still running: ${pids.filter(alive)}`);
    assert.equal((await session.exec(['echo', 'still here'])).stdout, 'still here\n');
  });

  it('reuses one connection for many commands, sequential and parallel beyond MaxSessions', async () => {
    const host = fleet.hosts[1]!;
    const accepted = () => (fleet.log(host.name).match(/Accepted publickey/g) ?? []).length;
    const before = accepted();
    const s = await connect(host, fleet.auth, OPTIONS);
    try {
      for (let i = 0; i < 40; i++) assert.equal((await s.exec(['echo', String(i)])).stdout, `${i}\n`);
      // sshd allows 10 channels per connection (MaxSessions); the runner queues the rest.
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => s.exec(['sh', '-c', `sleep 0.2; echo ${i}`])),
      );
      assert.deepEqual(
        results.map((r) => r.stdout),
        results.map((_, i) => `${i}\n`),
      );
    } finally {
      await s.close();
    }
    assert.equal(accepted() - before, 1);
  });

  it('measures connect + first exec and per-command latency (TCP_NODELAY)', async (t) => {
    const connects: number[] = [];
    const perCommand: number[] = [];
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      const s = await connect(fleet.hosts[1]!, fleet.auth, OPTIONS);
      await s.exec(['true']);
      connects.push(performance.now() - t0);
      for (let i = 0; i < 30; i++) {
        const t1 = performance.now();
        await s.exec(['true']);
        perCommand.push(performance.now() - t1);
      }
      await s.close();
    }
    t.diagnostic(
      `connect + first exec: median ${median(connects).toFixed(1)} ms (${connects.map((x) => x.toFixed(0)).join(', ')})`,
    );
    t.diagnostic(`per command on an open connection: median ${median(perCommand).toFixed(2)} ms`);
    // With Nagle on, every command waits for a delayed ACK (40 ms on Linux): ~50 ms per command.
    assert.ok(median(perCommand) < 35, `per-command median ${median(perCommand).toFixed(1)} ms suggests Nagle is on`);
  });

  it('reports a dropped connection as ConnectionLost', async () => {
    const host = fleet.hosts[1]!;
    const s = await connect(host, fleet.auth, OPTIONS);
    // Caught at once: the connection may drop before stopHost() resolves.
    const pending = s.exec(['sleep', '20']).catch((e: unknown) => e);
    await fleet.stopHost(host.name);
    const err = await pending;
    assert.ok(err instanceof ConnectionLost, String(err));
    assert.ok(await eventually(() => s.closed));
    await assert.rejects(s.exec(['true']), ConnectionLost);
    await fleet.startHost(host.name);
  });

  it('keeps secrets out of error messages', async () => {
    const token = new Secret('s3cr3t-deploy-token-value');
    const argv = ['sh', '-c', 'echo "login failed for $TOKEN" >&2; exit 1'];
    const err = await session.run(argv, { env: { TOKEN: token.reveal() } }).catch((e: unknown) => e);
    assert.ok(err instanceof CommandFailed);
    for (const text of [err.message, err.stderrTail, JSON.stringify(err), String(err)])
      assert.ok(!text.includes(token.reveal()), text);
    assert.match(err.stderrTail, /login failed for \[redacted\]/);
  });
});

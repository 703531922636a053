// Phase scripts (issue 15, item 2): a phase's commands in ONE SSH exec, each still judged as its own step,
// against real sshd hosts; and, on a real engine, what a replace costs in round trips.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { describeFailure } from '../../lib/rollout/describe-failure.js';
import { stepRunner } from '../../lib/rollout/host-steps.js';
import type { PhaseCmd } from '../../lib/rollout/phase-script.js';
import type { RolloutEvent } from '../../lib/rollout/types.js';
import { Secret } from '../../lib/secret.js';
import { connect, openFleet, type Fleet, type SshSession } from '../../lib/ssh/index.js';
import { engineMissing } from '../fixtures/engine.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { freePort } from '../fixtures/sshd.js';
import { APP_PORT, HEALTH_PATH, pushTestImage } from '../fixtures/test-images.js';
import { counted, environment, OPTIONS, roll } from './helpers.js';

const HOSTILE = [
  '',
  ' ',
  "it's",
  '"q"',
  '; touch pwned',
  '$(touch pwned)',
  '`touch pwned`',
  '$HOME',
  '&& touch pwned',
  '| tee pwned',
  '> pwned',
  'two\nlines\n',
  '*',
  '~',
  '#x',
  'a=b',
  '\\',
  '-n',
  'ünï ✓ 日本 🚀',
];

describe('phase scripts over real sshd', () => {
  let fleet: TestFleet;
  let session: SshSession;
  before(async () => {
    fleet = await startFleet({ hosts: 1 });
    session = await connect(fleet.hosts[0]!, fleet.auth, OPTIONS);
  });
  after(async () => {
    await session?.close();
    await fleet?.stop();
  });
  const home = () => fleet.hosts[0]!.home;

  it('a failing command inside a phase fails as its own step with its own stderr, as when run alone, in one exec; nothing after it runs', async () => {
    const failing: PhaseCmd = {
      step: 'start',
      argv: [
        'sh',
        '-c',
        'echo "docker: Error response from daemon: port is already allocated." >&2; echo "See \'docker run --help\'." >&2; exit 125',
      ],
    };
    const alone = await stepRunner({ host: 'web-1', timeoutMs: 20_000 })
      .command(session, failing)
      .catch((e: unknown) => e);

    const log: Array<{ argv: readonly string[] }> = [];
    const events: RolloutEvent[] = [];
    const run = stepRunner({ host: 'web-1', timeoutMs: 20_000, onEvent: (e) => events.push(e) });
    const ran: string[] = [];
    const inPhase = await run
      .phase(
        counted(session, log),
        [
          { step: 'lock', argv: ['sh', '-c', 'sleep 0.2; echo locked'] },
          failing,
          { step: 'switch', argv: ['touch', 'after-failure'] },
        ],
        (c) => ran.push(c.step),
      )
      .catch((e: unknown) => e);

    assert.deepEqual(describeFailure(inPhase), describeFailure(alone));
    assert.equal(describeFailure(inPhase).step, 'start');
    assert.match(describeFailure(inPhase).stderrTail, /port is already allocated/);
    assert.equal(log.length, 1, 'one SSH exec for the whole phase');
    assert.deepEqual(ran, ['lock', 'start']);
    assert.equal(existsSync(join(home(), 'after-failure')), false, 'the command after the failure ran');
    assert.ok(run.timings.lock! >= 150, JSON.stringify(run.timings)); // the host's own timing of that command
    assert.equal(run.timings.switch, undefined);
    const steps = events.flatMap((e) => (e.type === 'host-step' ? [`${e.step} ${e.status}`] : []));
    assert.deepEqual(steps, ['lock start', 'lock ok', 'start start', 'start failed']);
  });

  it('every word of a phase reaches the host as given: nothing in it is shell syntax', async () => {
    const run = stepRunner({ host: 'web-1', timeoutMs: 20_000 });
    const [printed, listed] = await run.phase(session, [
      { step: 'inspect', argv: ['printf', '%s\\n', ...HOSTILE] },
      { step: 'inspect', argv: ['ls', '-a'] },
    ]);
    assert.equal(printed!.stdout, HOSTILE.map((w) => `${w}\n`).join(''));
    assert.doesNotMatch(listed!.stdout, /pwned/);
  });

  it('stdin goes to its own command only; the others read nothing', async () => {
    const run = stepRunner({ host: 'web-1', timeoutMs: 20_000 });
    const [first] = await run.phase(session, [
      { step: 'inspect', argv: ['cat'] },
      { step: 'configure', argv: ['sh', '-c', 'cat > phase-env'], stdin: new Secret('A=1\nB=two words\n') },
    ]);
    assert.equal(first!.stdout, '');
    assert.equal(readFileSync(join(home(), 'phase-env'), 'utf8'), 'A=1\nB=two words\n');
  });

  it('a command that hangs inside a phase ends at the host deadline as its own step', async () => {
    const run = stepRunner({ host: 'web-1', timeoutMs: 2_000 });
    const started = performance.now();
    const err = await run
      .phase(session, [
        { step: 'lock', argv: ['true'] },
        { step: 'pull', argv: ['sleep', '60'] },
        { step: 'start', argv: ['touch', 'after-hang'] },
      ])
      .catch((e: unknown) => e);
    const d = describeFailure(err);
    assert.deepEqual([d.step, d.errorName], ['pull', 'HostTimeout'], d.message);
    assert.ok(performance.now() - started < 30_000);
    assert.equal(existsSync(join(home(), 'after-hang')), false);
  });
});

describe('round trips of a replace on a real engine', { skip: engineMissing() }, () => {
  let fleet: TestFleet;
  let registry: RegistryFixture;
  before(async () => {
    [fleet, registry] = await Promise.all([startFleet({ hosts: 1, engine: true }), startRegistry()]);
  });
  after(async () => {
    await fleet?.stop();
    await registry?.stop();
  });

  it('a replace costs 5 SSH execs in all, its health probes and running checks included (pull, prepare, start, health + switch, unlock), and still reports every step', async () => {
    let image = '';
    for (const tag of ['v1', 'v2']) image = await pushTestImage(registry.url, tag);
    const port = await freePort(fleet.hosts[0]!.address);
    const env = environment(
      {
        container: { ports: [`${port}:${APP_PORT}`], settle: 0 },
        healthCheck: { port, path: HEALTH_PATH, interval: 100, timeout: 20_000 },
        hostTimeout: '60s',
      },
      ['web-1'],
    );
    assert.equal((await roll(fleet, { image, tag: 'v1', hosts: ['web-1'], env })).ok, true);

    const log: Array<{ argv: readonly string[]; step?: string | undefined }> = [];
    const ssh = openFleet(fleet.hosts, fleet.auth, OPTIONS);
    const fleetCounted: Fleet = {
      hosts: ssh.hosts,
      session: async (h) => counted(await ssh.session(h), log),
      close: () => ssh.close(),
    };
    try {
      const report = await roll(fleetCounted, { image, tag: 'v2', hosts: ['web-1'], env });
      assert.equal(report.ok, true, JSON.stringify(report.failed));
      // The health check's probe loop and the settle check run on the host, in the phase of the switch.
      assert.deepEqual(
        log.map((e) => e.step),
        ['pull', 'lock', 'inspect', 'health', 'unlock'],
        log.map((e) => `${e.step}: ${e.argv.slice(0, 2).join(' ')}`).join('\n'),
      );
      const timings = report.hosts[0]!.timings;
      for (const step of ['pull', 'lock', 'inspect', 'stop', 'start', 'health', 'switch', 'record', 'unlock'])
        assert.ok(timings[step] !== undefined, `${step} missing in ${JSON.stringify(timings)}`);
      assert.equal(report.hosts[0]!.previousImage, `${image}:v1`);
    } finally {
      await ssh.close();
    }
  });
});

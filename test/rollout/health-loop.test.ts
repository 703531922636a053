// The health check's probe loop on the host (issue 15, item 2): against real sshd hosts, the probes of a
// check run in ONE SSH exec, and the transcript, the step and the error are still those of each probe.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HealthCheckFailed } from '../../lib/rollout/errors.js';
import { StepFailed, stepRunner } from '../../lib/rollout/host-steps.js';
import type { HealthProbeRecord } from '../../lib/rollout/types.js';
import { verifyStarted } from '../../lib/rollout/verify-started.js';
import { connect, type SshSession } from '../../lib/ssh/index.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { counted, environment, OPTIONS } from './helpers.js';

describe('the health check loop on the host', () => {
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

  /** Runs the health check of `healthCheck` as a rollout does; resolves with its execs and transcript, or its error. */
  async function check(healthCheck: Record<string, unknown>) {
    const log: Array<{ argv: readonly string[]; step?: string | undefined }> = [];
    const transcript: HealthProbeRecord[] = [];
    const run = stepRunner({ host: 'web-1', timeoutMs: 60_000 });
    const env = environment({ healthCheck });
    const error = await verifyStarted(run, counted(session, log), env, undefined, { transcript }).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { log, transcript, error, timings: run.timings };
  }
  // A command check that fails until it has run `n` times (its count in a file of its own in the host's home).
  let counter = 0;
  const passesAfter = (n: number) => {
    const file = `probe-count-${++counter}`;
    return ['sh', '-c', `c=$(cat ${file} 2>/dev/null || echo 0); echo $((c + 1)) > ${file}; [ "$c" -ge ${n} ]`];
  };

  it('runs every probe in one SSH exec; each is in the transcript with its own start, time and result, one interval apart', async () => {
    const { log, transcript, error, timings } = await check({
      command: passesAfter(3),
      interval: 300,
      timeout: 30_000,
    });
    assert.equal(error, undefined);
    assert.equal(log.length, 1, log.map((e) => `${e.step}: ${e.argv.slice(0, 3).join(' ')}`).join('\n'));
    assert.deepEqual(
      transcript.map((p) => p.exitCode),
      [1, 1, 1, 0],
    );
    const starts = transcript.map((p) => Date.parse(p.at));
    for (let i = 1; i < starts.length; i++)
      assert.ok(
        starts[i]! - starts[i - 1]! >= 290,
        `probe ${i} began ${starts[i]! - starts[i - 1]!} ms after the one before`,
      );
    assert.ok(transcript.every((p) => p.ms >= 0 && p.target.startsWith('sh -c')));
    assert.ok(timings.health! >= 900, `health took ${timings.health} ms for 4 probes 300 ms apart`);
  });

  it('a check that never passes fails at its timeout with the last attempt and its stderr, in one exec', async () => {
    const { log, transcript, error } = await check({
      command: ['sh', '-c', 'echo "database unreachable" >&2; exit 3'],
      interval: 200,
      timeout: 1_500,
    });
    assert.ok(error instanceof StepFailed && error.step === 'health', String(error));
    assert.ok(error.error instanceof HealthCheckFailed);
    assert.match(error.message, /health check failed for \d+ ms \(last attempt: exit 3\)/);
    assert.equal(error.error.stderrTail, 'database unreachable');
    assert.ok(error.error.timeoutMs >= 1_000, `failed after ${error.error.timeoutMs} ms`);
    assert.ok(transcript.length >= 3, `${transcript.length} probes`);
    assert.ok(transcript.every((p) => p.exitCode === 3 && p.body === 'database unreachable\n'));
    assert.equal(log.length, 1);
  });

  it('a check that flaps never counts as healthy with successes: 3, and the error says it flapped', async () => {
    const { error, transcript, log } = await check({
      command: [
        'sh',
        '-c',
        'c=$(cat flap-count 2>/dev/null || echo 0); echo $((c + 1)) > flap-count; [ $((c % 2)) = 0 ]',
      ],
      interval: 100,
      timeout: 1_500,
      successes: 3,
    });
    assert.ok(error instanceof StepFailed && error.error instanceof HealthCheckFailed, String(error));
    assert.match(error.message, /\d+ probe\(s\) passed, never 3 in a row/);
    assert.ok(transcript.some((p) => p.exitCode === 0) && transcript.some((p) => p.exitCode !== 0));
    assert.equal(log.length, 1);
  });

  describe('over HTTP', () => {
    let server: Server;
    let port: number;
    let answers: number[] = [];
    before(async () => {
      server = createServer((_req, res) => {
        const status = answers.shift() ?? 200;
        res.writeHead(status).end(status === 200 ? 'ok' : `not yet (${status})`);
      });
      // The host's own 127.0.0.1 is its fleet address (test/fixtures/bin/loopback-tool rewrites curl's URL).
      await new Promise<void>((resolve) => server.listen(0, fleet.hosts[0]!.address, resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('probes until the app answers a passing status; every answer, status and body in the transcript, one exec', async () => {
      answers = [503, 500, 200];
      const { error, transcript, log } = await check({ port, path: '/healthz', interval: 100, timeout: 20_000 });
      assert.equal(error, undefined);
      assert.deepEqual(
        transcript.map((p) => [p.status, p.body]),
        [
          [503, 'not yet (503)'],
          [500, 'not yet (500)'],
          [200, 'ok'],
        ],
      );
      assert.equal(transcript[0]!.target, `http://127.0.0.1:${port}/healthz`);
      assert.equal(log.length, 1);
    });

    it('a 200 is a failure when the check asks for other statuses', async () => {
      answers = [];
      const { error } = await check({ port, path: '/healthz', interval: 100, timeout: 800, status: [204] });
      assert.ok(error instanceof StepFailed && error.error instanceof HealthCheckFailed, String(error));
      assert.match(error.message, /last attempt: HTTP 200, curl exit 0/);
    });
  });
});

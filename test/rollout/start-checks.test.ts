// The pure parts of "correct on a real engine": state parsing and the started rule, error lines without
// the CLI's hints, tails cut on word boundaries, the new docker flags, fjord-only labels, redaction.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notStarted, parseContainerState } from '../../lib/rollout/container-state.js';
import { dockerInspectState, dockerLogs, dockerRun, dockerStop } from '../../lib/rollout/docker-commands.js';
import { stepRunner } from '../../lib/rollout/host-steps.js';
import { parseLabels } from '../../lib/rollout/read-running.js';
import { envValues, scrub, Secret } from '../../lib/secret.js';
import { CommandFailed, errorLine, tail } from '../../lib/ssh/errors.js';
import { joinArgv } from '../../lib/ssh/quote.js';
import type { ExecResult, SshSession } from '../../lib/ssh/types.js';
import { formatDiagnostics } from '../../lib/rollout/format-diagnostics.js';
import { renderFinishedNote } from '../../lib/notify/render-note.js';
import type { FailureDiagnostics, RolloutReport } from '../../lib/rollout/types.js';
import { makeJob } from '../fixtures/jobs.js';
import { IMAGE, rolloutOf } from './helpers.js';

const ENGINE_ERROR =
  'docker: Error response from daemon: driver failed programming external connectivity on endpoint api-prod-next (3f2a): Error starting userland proxy: listen tcp4 127.0.11.2:8080: bind: address already in use.';
const WARNING = 'WARNING: IPv4 forwarding is disabled. Networking will not work.';

describe('error summaries', () => {
  it('keep the engine error line, not the hint of CLI 20.10 or 28 nor the forwarding warning', () => {
    const cli20 = `${WARNING}\n${ENGINE_ERROR}\nSee 'docker run --help'.\n`;
    const cli28 = `${WARNING}\n${ENGINE_ERROR}\n\nRun 'docker run --help' for more information\n`;
    assert.equal(errorLine(cli20), ENGINE_ERROR);
    assert.equal(errorLine(cli28), ENGINE_ERROR);
    assert.equal(errorLine(`${ENGINE_ERROR}\n${WARNING}\n`), ENGINE_ERROR);
    assert.equal(errorLine("See 'docker run --help'.\n"), "See 'docker run --help'."); // nothing better to show
    for (const stderr of [cli20, cli28]) {
      const err = new CommandFailed('web-1', ['docker', 'run', '-d', IMAGE], 125, stderr, 'start');
      assert.equal(err.message, `host web-1: step start: \`docker run -d ${IMAGE}\` exited 125: ${ENGINE_ERROR}`);
      assert.match(err.stderrTail, /--help/); // the tail itself keeps everything
    }
  });

  it('cut tails on a line or word boundary, never inside a word', () => {
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const cut = tail(words, 100);
    assert.ok(cut.length <= 100 && cut.startsWith('word') && words.endsWith(cut), cut);
    assert.equal(tail(`aaaa\n${'b'.repeat(50)}`, 52), 'b'.repeat(50));
    assert.equal(tail(`x ${'y'.repeat(10)}`, 10), 'y'.repeat(10)); // the cut falls on a boundary already
    assert.equal(tail('z'.repeat(300), 100), `…${'z'.repeat(100)}`); // one long token: marked as cut
  });
});

describe('container state', () => {
  const inspect = (state: Record<string, unknown>, restartCount = 0) =>
    parseContainerState(JSON.stringify({ state, restartCount }) + '\n');

  it('is started only when running, not restarting, never restarted', () => {
    const running = inspect({
      Status: 'running',
      Running: true,
      Restarting: false,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      StartedAt: '2026-01-01T00:00:00Z',
      FinishedAt: '0001-01-01T00:00:00Z',
    });
    assert.deepEqual(running, {
      status: 'running',
      running: true,
      restarting: false,
      exitCode: 0,
      oomKilled: false,
      restartCount: 0,
      error: '',
      startedAt: '2026-01-01T00:00:00Z',
    });
    assert.equal(notStarted(running), undefined);
    // A crash loop under a restart policy: Running=true between restarts.
    assert.equal(
      notStarted(inspect({ Status: 'running', Running: true, Restarting: false, ExitCode: 0 }, 2)),
      'running, but restarted (exit code 0, restarts 2)',
    );
    assert.equal(
      notStarted(inspect({ Status: 'restarting', Running: true, Restarting: true, ExitCode: 1 }, 1)),
      'restarting (crash loop) (exit code 1, restarts 1)',
    );
    assert.equal(
      notStarted(inspect({ Status: 'exited', Running: false, ExitCode: 137, OOMKilled: true })),
      'exited (exit code 137, restarts 0, OOM-killed)',
    );
    assert.equal(
      notStarted(inspect({ Status: 'created', Running: false, ExitCode: 128, Error: 'port is already allocated' })),
      'created (exit code 128, restarts 0, error: port is already allocated)',
    );
    // The stand-in (or an older engine) lacks Restarting and OOMKilled: false.
    assert.equal(notStarted(inspect({ Status: 'running', Running: true })), undefined);
  });

  it('is read with one inspect, and logs with one tail', () => {
    assert.equal(
      joinArgv(dockerInspectState('api-prod-next')),
      `docker inspect --type container --format '{"state":{{json .State}},"restartCount":{{json .RestartCount}}}' api-prod-next`,
    );
    assert.equal(
      joinArgv(dockerLogs('api-prod-next')),
      `sh -c 'exec docker logs --tail "$2" "$1" 2>&1' fjord-logs api-prod-next 50`,
    );
  });
});

describe('stop grace and init', () => {
  const target = (container: Record<string, unknown>) => ({
    app: 'api',
    environment: 'prod',
    jobId: 'job-1',
    ref: `${IMAGE}:v2`,
    tag: 'v2',
    container: rolloutOf({ container }).container,
  });

  it('pass --init and --stop-timeout to run, -t to stop (whole seconds, rounded up); nothing when unset', () => {
    assert.equal(
      joinArgv(dockerRun(target({ init: true, stopTimeout: '1500ms' }), 'x')).split(' --label')[0],
      'docker run -d --name x --restart unless-stopped --init --stop-timeout 2',
    );
    assert.equal(
      joinArgv(dockerRun(target({}), 'x')).split(' --label')[0],
      'docker run -d --name x --restart unless-stopped',
    );
    assert.equal(joinArgv(dockerStop('api-prod', 1000)), 'docker stop -t 1 api-prod');
    assert.equal(joinArgv(dockerStop('api-prod', 0)), 'docker stop -t 0 api-prod');
    assert.equal(joinArgv(dockerStop('api-prod')), 'docker stop api-prod');
    const defaults = rolloutOf({}).container;
    assert.deepEqual([defaults.settle, defaults.stopTimeout, defaults.init], [1000, undefined, false]);
  });
});

describe('labels and redaction', () => {
  it('reads only fjord labels: the image decoy and its OCI labels are not ours', () => {
    const merged = {
      'fjord.app': 'api',
      'fjord.tag': 'v2',
      'org.opencontainers.image.title': 'fjord demo web',
      maintainer: 'x',
    };
    assert.deepEqual(parseLabels(JSON.stringify(merged)), { 'fjord.app': 'api', 'fjord.tag': 'v2' });
    assert.deepEqual(
      parseLabels(JSON.stringify('fjord.tag=v1,org.opencontainers.image.title=t,com.docker.compose.service=api')),
      { 'fjord.tag': 'v1', 'com.docker.compose.service': 'api' },
    );
    assert.deepEqual(parseLabels('null'), {});
  });

  it('masks known secrets and container.env values of 4+ characters, longest first', () => {
    const secret = new Secret('tok-1234567');
    const also = envValues({ DB_PASSWORD: 'hunter2hunter2', DB_PASS: 'hunter2', DEBUG: '1', REGION: 'eu' });
    assert.deepEqual(also, ['hunter2hunter2', 'hunter2']);
    assert.equal(
      scrub(`login ${secret.reveal()} pw=hunter2hunter2 short=hunter2 debug=1 eu`, also),
      'login [redacted] pw=[redacted] short=[redacted] debug=1 eu',
    );
  });
});

describe('a failed command with an undo', () => {
  it('runs the undo (its own failure ignored) and rethrows the command failure', async () => {
    const ran: string[] = [];
    const session = {
      host: { name: 'web-1' },
      async exec(argv: readonly string[]): Promise<ExecResult> {
        ran.push(`exec ${argv.join(' ')}`);
        throw new Error('connection lost during undo');
      },
      async run(argv: readonly string[]): Promise<ExecResult> {
        ran.push(`run ${argv.join(' ')}`);
        throw new CommandFailed('web-1', [...argv], 125, `${ENGINE_ERROR}\nSee 'docker run --help'.`, 'start');
      },
    } as unknown as SshSession;
    const run = stepRunner({ host: 'web-1', timeoutMs: 10_000 });
    const err = await run
      .command(session, {
        step: 'start',
        argv: ['docker', 'run', '-d', '--name', 'x-next', IMAGE],
        undo: ['docker', 'rm', '-f', 'x-next'],
      })
      .catch((e: unknown) => e);
    assert.deepEqual(ran, [`run docker run -d --name x-next ${IMAGE}`, 'exec docker rm -f x-next']);
    assert.match(String((err as Error).message), /address already in use/);
  });
});

describe('failure reports', () => {
  const diagnostics: FailureDiagnostics = {
    container: 'api-prod-next',
    logs: 'fjord-demo v3 starting\n```\n</details> health: database unreachable, answering 500',
    state: {
      status: 'running',
      running: true,
      restarting: false,
      exitCode: 0,
      oomKilled: false,
      restartCount: 0,
      error: '',
    },
    probes: [
      {
        at: '2026-12-02T23:46:14.408Z',
        target: 'http://127.0.0.1:8080/healthz',
        status: 0,
        exitCode: 7,
        body: '',
        error: "curl: (7) Couldn't connect to server",
        ms: 12,
      },
      {
        at: '2026-12-02T23:46:14.608Z',
        target: 'http://127.0.0.1:8080/healthz',
        status: 500,
        exitCode: 0,
        body: 'database unreachable\n',
        ms: 31,
      },
    ],
    probeCount: 9,
  };

  it('print state, probes and log lines as text', () => {
    assert.deepEqual(formatDiagnostics(diagnostics), [
      'container api-prod-next: status running, exit code 0, OOM-killed no, restarts 0',
      'health probes (last 2 of 9):',
      "  23:46:14.408 http://127.0.0.1:8080/healthz → no answer (curl exit 7: curl: (7) Couldn't connect to server) in 12 ms",
      '  23:46:14.608 http://127.0.0.1:8080/healthz → HTTP 500 in 31 ms: database unreachable',
      'last log lines:',
      '  fjord-demo v3 starting',
      '  ```',
      '  </details> health: database unreachable, answering 500',
    ]);
  });

  it('go into the MR note in a fenced block that the content cannot close', () => {
    const report: RolloutReport = {
      ok: false,
      durationMs: 5000,
      hosts: [{ host: 'web-1', status: 'rolled-back', step: 'health', timings: {}, diagnostics }],
      failed: {
        host: 'web-1',
        step: 'health',
        message: 'health check failed',
        errorName: 'HealthCheckFailed',
        stderrTail: '',
      },
    };
    const note = renderFinishedNote(makeJob(), { status: 'failed', detail: 'x', rollout: report });
    const at = note.indexOf("What `web-1`'s new container said:");
    assert.ok(at > 0, note);
    // The logs hold a ``` line: the block's fence is longer, and the logs are shown as they were.
    const fences = note.slice(at).match(/^`{4,}$/gm) ?? [];
    assert.deepEqual(fences, ['````', '````'], note);
    assert.ok(note.includes('\n  ```\n'), 'the fence inside the logs is kept verbatim');
  });
});

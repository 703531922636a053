// The rollout's commands as data: builders compared as the joined (quoted) command line a host receives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinArgv } from '../../lib/ssh/quote.js';
import { composeProject, composeSetTag } from '../../lib/rollout/compose-commands.js';
import { dockerRun, stopsFirst } from '../../lib/rollout/docker-commands.js';
import { healthPassed, healthProbe, parseProbe } from '../../lib/rollout/health-commands.js';
import { deployCommands, inspectCommand, removeCommands, splitRef } from '../../lib/rollout/host-commands.js';
import type { HostTarget } from '../../lib/rollout/host-command-types.js';
import { substitute } from '../../lib/rollout/hook-commands.js';
import { parseRunning } from '../../lib/rollout/read-running.js';
import { acquireLock, lockOwner, releaseLock } from '../../lib/rollout/state-commands.js';
import { formatRolloutPlan } from '../../lib/rollout/format-plan.js';
import { environment, IMAGE, rolloutOf } from './helpers.js';

const target = (rollout: Record<string, unknown>, tag = 'v2'): HostTarget => ({
  app: 'api',
  environment: 'prod',
  jobId: 'job-1',
  image: IMAGE,
  tag,
  rollout: rolloutOf(rollout),
  stateDir: '.fjord',
});
const lines = (cmds: { step: string; argv: string[] }[]) => cmds.map((c) => `${c.step}: ${joinArgv(c.argv)}`);
const running = { ref: `${IMAGE}:v1`, state: 'running', labels: {}, container: 'api-prod' };

describe('docker strategy commands', () => {
  const spec = {
    container: {
      ports: ['8080:80'],
      envFile: '/etc/api.env',
      env: { MODE: 'prod', GREETING: 'hello world' },
      volumes: ['/data:/data'],
      restart: 'always',
      args: ['serve', '--fast'],
    },
  };

  it('runs the configured spec under a temporary name with fjord labels', () => {
    const t = target(spec);
    assert.equal(
      joinArgv(
        dockerRun(
          {
            app: 'api',
            environment: 'prod',
            jobId: 'job-1',
            ref: `${IMAGE}:v2`,
            tag: 'v2',
            container: t.rollout.container,
          },
          'api-prod-next',
        ),
      ),
      `docker run -d --name api-prod-next --restart always -p 8080:80 --env-file /etc/api.env -e 'MODE=prod' -e 'GREETING=hello world' -v /data:/data ` +
        `--label 'fjord.app=api' --label 'fjord.environment=prod' --label 'fjord.tag=v2' --label 'fjord.job=job-1' ${IMAGE}:v2 serve --fast`,
    );
  });

  it('with fixed ports stops the old container first, then starts, checks, removes and renames', () => {
    assert.ok(stopsFirst(target(spec).rollout.container));
    const cmds = deployCommands(target(spec), running);
    assert.deepEqual(lines(cmds.before).slice(0, 3), [
      `pull: docker pull ${IMAGE}:v2`,
      'start: docker rm -f api-prod-next',
      'stop: docker stop api-prod',
    ]);
    assert.match(lines(cmds.before)[3]!, /^start: docker run -d --name api-prod-next --restart always -p 8080:80 /);
    assert.equal(cmds.before[3]!.undo?.join(' '), 'docker rm -f api-prod-next');
    assert.equal(cmds.before.length, 4);
    assert.equal(cmds.started, 'api-prod-next');
    assert.deepEqual(lines(cmds.after), [
      'switch: docker rm -f api-prod',
      'switch: docker rename api-prod-next api-prod',
      `record: sh -c ${joinArgv([cmds.after[2]!.argv[2]!])} fjord-record .fjord/deployed/api.prod ${IMAGE}:v2`,
    ]);
  });

  it('without ports starts the new one beside the old (no stop); on a fresh host nothing to stop or remove', () => {
    const named = { container: { name: 'edge' } };
    assert.ok(!stopsFirst(target(named).rollout.container));
    assert.ok(stopsFirst(target({ container: { stopFirst: true } }).rollout.container));
    const beside = deployCommands(target(named), { ...running, container: 'edge' });
    assert.deepEqual(
      beside.before.map((c) => c.step),
      ['pull', 'start', 'start'],
    );
    assert.equal(
      joinArgv(beside.before[2]!.argv),
      `docker run -d --name edge-next --restart unless-stopped --label 'fjord.app=api' --label 'fjord.environment=prod' --label 'fjord.tag=v2' --label 'fjord.job=job-1' ${IMAGE}:v2`,
    );
    const fresh = deployCommands(target(spec), undefined);
    assert.deepEqual(
      fresh.before.map((c) => c.step),
      ['pull', 'start', 'start'],
    );
    assert.deepEqual(lines(fresh.after).slice(0, 1), ['switch: docker rename api-prod-next api-prod']);
    assert.deepEqual(lines(removeCommands(target(spec), undefined)!), ['remove: docker rm -f api-prod-next api-prod']);
    assert.equal(
      joinArgv(inspectCommand(target(spec))),
      "docker inspect --type container --format '{{.Name}}|{{.Config.Image}}|{{.State.Status}}|{{json .Config.Labels}}' api-prod",
    );
  });

  it('parses what runs, from docker inspect and docker ps lines', () => {
    assert.deepEqual(parseRunning(`/api-prod|${IMAGE}:v1|running|{"fjord.tag":"v1","x":"a|b"}\n`, 'docker'), {
      container: 'api-prod',
      ref: `${IMAGE}:v1`,
      state: 'running',
      labels: { 'fjord.tag': 'v1' },
    });
    assert.deepEqual(
      parseRunning(
        `app-api-1|${IMAGE}:v1|exited|"a=1,b=x=y"\napp-api-2|${IMAGE}:v2|running|"a=2,fjord.app=x=y"\n`,
        'compose',
      ),
      { container: 'app-api-2', ref: `${IMAGE}:v2`, state: 'running', labels: { 'fjord.app': 'x=y' } },
    );
    assert.equal(parseRunning('', 'docker'), undefined);
    assert.deepEqual(parseRunning(`${IMAGE}:v7\n`, 'command'), { ref: `${IMAGE}:v7`, state: 'recorded', labels: {} });
    assert.deepEqual(splitRef('registry:5000/acme/api:v1'), { image: 'registry:5000/acme/api', tag: 'v1' });
    assert.equal(splitRef('registry:5000/acme/api'), undefined);
  });
});

describe('compose strategy commands', () => {
  const compose = { strategy: 'compose', compose: { directory: 'apps/My App', service: 'api' } };

  it('sets the tag in the project .env, then pulls and ups the one service', () => {
    const cmds = deployCommands(target(compose), running);
    assert.deepEqual(
      lines(cmds.before).map((l) => l.replace(/sh -c '.*' fjord-(set-tag|compose)/, 'sh -c SCRIPT fjord-$1')),
      [
        "configure: sh -c SCRIPT fjord-set-tag 'apps/My App/.env' TAG v2",
        "pull: sh -c SCRIPT fjord-compose --project-directory 'apps/My App' pull api",
        "start: sh -c SCRIPT fjord-compose --project-directory 'apps/My App' up -d api",
      ],
    );
    // The plugin where the host has it, else Debian's docker-compose 1.29.
    assert.match(
      joinArgv(cmds.before[1]!.argv),
      /if docker compose version >\/dev\/null 2>&1; then exec docker compose "\$@"; else exec docker-compose "\$@"; fi/,
    );
    assert.equal(composeProject('apps/My App/'), 'myapp');
    assert.deepEqual(composeSetTag({ directory: '/srv/x', service: 's', tagVariable: 'API_TAG' }, 'v3').slice(3), [
      'fjord-set-tag',
      '/srv/x/.env',
      'API_TAG',
      'v3',
    ]);
    assert.match(
      joinArgv(inspectCommand(target(compose))),
      /^docker ps -a --filter 'label=com.docker.compose.project=myapp' --filter 'label=com.docker.compose.service=api' --format /,
    );
    assert.deepEqual(lines(removeCommands(target(compose), { ...running, container: 'myapp-api-1' })!), [
      'remove: docker rm -f myapp-api-1',
    ]);
  });
});

describe('command strategy commands', () => {
  it('substitutes placeholders inside each argument, never splitting it', () => {
    assert.deepEqual(
      substitute(['deploy', '--image={image}:{tag}', '{app} {env}', '{unknown}'], {
        image: IMAGE,
        tag: 'v2',
        app: 'api',
        env: 'prod',
      }),
      ['deploy', `--image=${IMAGE}:v2`, 'api prod', '{unknown}'],
    );
    const hooks = {
      strategy: 'command',
      command: {
        pre: [['echo', 'pre {tag}']],
        deploy: [['/opt/deploy.sh', '{image}', '{tag}']],
        post: [['echo', 'post']],
      },
    };
    const cmds = deployCommands(target(hooks), undefined);
    assert.deepEqual(lines(cmds.before), ["hook: echo 'pre v2'", `hook: /opt/deploy.sh ${IMAGE} v2`]);
    assert.deepEqual(lines(cmds.after).slice(0, 1), ['hook: echo post']);
    assert.equal(removeCommands(target(hooks), undefined), undefined);
  });
});

describe('health check and lock commands', () => {
  it('probes HTTP from the host with curl, passing on 2xx or the configured statuses', () => {
    const http = rolloutOf({ healthCheck: { port: 8080, path: '/healthz' } }).healthCheck!;
    const script = `'{ curl -sS --max-time "$1" -w '\\''%{stderr}\\nfjord-probe %{http_code}'\\'' "$2"; echo " $?" >&2; } | { head -c 200; cat >/dev/null; }'`;
    assert.equal(joinArgv(healthProbe(http)), `sh -c ${script} fjord-probe 2 http://127.0.0.1:8080/healthz`);
    const probe = (stdout: string, stderr: string) => parseProbe(http, { exitCode: 0, stdout, stderr });
    assert.deepEqual(probe('ok', '\nfjord-probe 204 0\n'), { status: 204, exitCode: 0, body: 'ok' });
    assert.ok(healthPassed(http, probe('ok', '\nfjord-probe 204 0')));
    assert.ok(!healthPassed(http, probe('', '\nfjord-probe 302 0')));
    // A 500 keeps its body (no `-f`), cut at 200 bytes.
    const sick = probe('database unreachable: '.padEnd(300, 'x'), '\nfjord-probe 500 0');
    assert.deepEqual([sick.status, sick.body.length, healthPassed(http, sick)], [500, 200, false]);
    assert.deepEqual(
      probe(
        '',
        "curl: (7) Failed to connect to 127.0.0.1 port 8080 after 0 ms: Couldn't connect to server\nfjord-probe 000 7\n",
      ),
      {
        status: 0,
        exitCode: 7,
        body: '',
        error: "curl: (7) Failed to connect to 127.0.0.1 port 8080 after 0 ms: Couldn't connect to server",
      },
    );
    // No marker at all (no curl on the host): no answer.
    assert.deepEqual(parseProbe(http, { exitCode: 0, stdout: '', stderr: 'sh: 1: curl: not found\n 127\n' }), {
      status: 0,
      exitCode: 1,
      body: '',
      error: '127',
    });
    const listed = rolloutOf({ healthCheck: { port: 80, status: [401], interval: '3s' } }).healthCheck!;
    assert.equal(joinArgv(healthProbe(listed)), `sh -c ${script} fjord-probe 3 http://127.0.0.1:80/`);
    assert.ok(healthPassed(listed, parseProbe(listed, { exitCode: 0, stdout: '', stderr: 'fjord-probe 401 0' })));
    assert.ok(!healthPassed(listed, parseProbe(listed, { exitCode: 0, stdout: '', stderr: 'fjord-probe 200 0' })));
    const custom = rolloutOf({ healthCheck: { command: ['test', '-f', '/tmp/ok'] } }).healthCheck!;
    assert.deepEqual(healthProbe(custom), ['test', '-f', '/tmp/ok']);
    assert.ok(
      healthPassed(custom, parseProbe(custom, { exitCode: 0, stdout: '', stderr: '' })) &&
        !healthPassed(custom, parseProbe(custom, { exitCode: 1, stdout: '', stderr: '' })),
    );
  });

  it('locks with values as positional parameters only', () => {
    const owner = lockOwner({
      token: 't0k',
      jobId: "j'1",
      app: 'api',
      environment: 'prod',
      owner: 'box pid 7',
      time: new Date(0),
    });
    assert.equal(
      owner,
      "token=t0k\njob=j'1\napp=api\nenvironment=prod\nowner=box pid 7\ntime=1970-01-01T00:00:00.000Z",
    );
    const acquire = acquireLock('.fjord', owner, 90_500, "j'1");
    assert.deepEqual(acquire.slice(3), ['fjord-lock', '.fjord', owner, '91', "j'1"]);
    assert.doesNotMatch(acquire[2]!, /t0k|j'1/);
    assert.deepEqual(releaseLock('.fjord', 't0k').slice(3), ['fjord-unlock', '.fjord', 't0k']);
  });
});

describe('dry-run plan', () => {
  it('prints every host with its exact commands, batch by batch', () => {
    const env = environment({
      batchSize: 2,
      canary: true,
      container: { ports: ['8080:80'] },
      healthCheck: { port: 8080, path: '/healthz' },
    });
    const text = formatRolloutPlan(
      {
        app: 'api',
        environment: 'prod',
        image: IMAGE,
        tag: 'v2',
        jobId: 'job-1',
        env,
        hosts: ['web-1', 'web-2', 'web-3'],
      },
      { stateDir: '.fjord', lockStaleAfterMs: 3_600_000 },
    );
    assert.match(text, /^rollout api\/prod → registry.example.com\/acme\/api:v2 \(strategy docker, 2 batches/);
    assert.match(text, /\nbatch 1 \(canary\): web-1\n {2}web-1:\n/);
    assert.match(text, /\nbatch 2: web-2, web-3\n/);
    assert.equal(text.match(/ {4}pull {5}docker pull registry.example.com\/acme\/api:v2\n/g)?.length, 3);
    assert.match(text, / {4}stop {5}docker stop api-prod {3}# only when a container runs\n/);
    assert.match(
      text,
      / {4}health {3}sh -c .*curl -sS .*http:\/\/127.0.0.1:8080\/healthz {3}# every 1000 ms, up to 60000 ms\n/,
    );
    assert.match(
      text,
      / {4}start {4}docker inspect --type container --format .* api-prod-next {3}# 1000 ms after start: running, not restarting, restart count 0; again after the health check\n {4}health /,
    );
  });
});

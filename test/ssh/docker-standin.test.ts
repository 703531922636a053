// The docker stand-in on the test fleet, driven through real SSH like the rollout will drive it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommandTimeout, openFleet, type Fleet, type SshSession } from '../../lib/ssh/index.js';
import { freePort } from '../fixtures/sshd.js';
import { startFleet, type TestFleet } from '../fixtures/fleet.js';
import { alive, OPTIONS } from './helpers.js';

const IMAGE = 'registry.example.com/acme/api';

describe('docker stand-in over ssh', () => {
  let fleet: TestFleet;
  let ssh: Fleet;
  let a: SshSession;
  let b: SshSession;
  let port: number;
  before(async () => {
    fleet = await startFleet({ hosts: 2 });
    ssh = openFleet(fleet.hosts, fleet.auth, OPTIONS);
    [a, b] = await Promise.all([ssh.session('web-1'), ssh.session('web-2')]);
    port = await freePort(fleet.hosts[0]!.address);
  });
  after(async () => {
    await ssh?.close();
    await fleet?.stop();
  });

  const docker = (s: SshSession, ...args: string[]) => s.exec(['docker', ...args]);
  const get = async (url: string) => {
    const res = await fetch(url).catch(() => undefined);
    return res && { status: res.status, body: await res.text() };
  };

  it('runs a container that serves /healthz on the host own address, and lists and inspects it', async () => {
    const pulled = await docker(a, 'pull', `${IMAGE}:v1`);
    assert.equal(pulled.exitCode, 0, pulled.stderr);
    assert.match(pulled.stdout, /Status: Downloaded newer image for registry.example.com\/acme\/api:v1\n/);
    const run = await docker(
      a,
      'run',
      '-d',
      '--name',
      'api',
      '-p',
      `${port}:8080`,
      '--restart',
      'unless-stopped',
      '--label',
      'fjord.app=api',
      '--label',
      'fjord.tag=v1',
      '-e',
      'GREETING=hello world',
      `${IMAGE}:v1`,
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^[0-9a-f]{64}\n$/);
    const health = await get(`http://${fleet.hosts[0]!.address}:${port}/healthz`);
    assert.equal(health?.status, 200);
    assert.equal(JSON.parse(health!.body).tag, 'v1');
    // "From the host": curl on web-1 reaches web-1's container through its own 127.0.0.1 …
    const curl = await a.exec(['curl', '-fsS', `http://127.0.0.1:${port}/healthz`]);
    assert.equal(JSON.parse(curl.stdout).host, 'web-1');
    // … and web-2, another machine, has neither the container nor anything on that port.
    assert.equal((await docker(b, 'ps', '-a', '-q')).stdout, '');
    assert.notEqual((await b.exec(['curl', '-fsS', `http://127.0.0.1:${port}/healthz`])).exitCode, 0);

    const ps = await docker(
      a,
      'ps',
      '--filter',
      'label=fjord.app=api',
      '--format',
      '{{.Names}} {{.Image}} {{.Label "fjord.tag"}} {{.State}}',
    );
    assert.equal(ps.stdout, `api ${IMAGE}:v1 v1 running\n`);
    assert.equal((await docker(a, 'ps', '--filter', 'label=fjord.app=other', '-q')).stdout, '');
    const inspect = await docker(
      a,
      'inspect',
      '--format',
      '{{.Config.Image}} {{.State.Running}} {{index .Config.Labels "fjord.app"}} {{json .Config.Env}}',
      'api',
    );
    assert.equal(inspect.stdout, `${IMAGE}:v1 true api ["GREETING=hello world"]\n`);
    const full = JSON.parse((await docker(a, 'inspect', 'api')).stdout);
    assert.equal(full[0].HostConfig.RestartPolicy.Name, 'unless-stopped');
    assert.equal((await docker(a, 'inspect', 'nothing')).exitCode, 1);
  });

  it('refuses a second container with the same name or the same port', async () => {
    const sameName = await docker(a, 'run', '-d', '--name', 'api', `${IMAGE}:v1`);
    assert.equal(sameName.exitCode, 125);
    assert.match(sameName.stderr, /Conflict. The container name "\/api" is already in use/);
    const samePort = await docker(a, 'run', '-d', '--name', 'api-2', '-p', `${port}:8080`, `${IMAGE}:v2`);
    assert.equal(samePort.exitCode, 125);
    assert.match(samePort.stderr, /port is already allocated/);
    assert.equal((await docker(a, 'rm', 'api-2')).exitCode, 0);
    assert.equal((await docker(a, 'run', '-d', '--bogus', `${IMAGE}:v1`)).exitCode, 125);
  });

  it('stops, starts, renames and removes', async () => {
    const pid = Number((await docker(a, 'inspect', '-f', '{{.State.Pid}}', 'api')).stdout);
    assert.ok(alive(pid));
    assert.equal((await docker(a, 'rm', 'api')).exitCode, 1); // running, no -f
    assert.equal((await docker(a, 'stop', 'api')).stdout, 'api\n');
    assert.ok(!alive(pid));
    assert.equal(await get(`http://${fleet.hosts[0]!.address}:${port}/healthz`), undefined);
    assert.match((await docker(a, 'ps', '-a', '--format', '{{.Names}} {{.Status}}')).stdout, /^api Exited \(0\)/);
    assert.equal((await docker(a, 'start', 'api')).exitCode, 0);
    assert.equal((await get(`http://${fleet.hosts[0]!.address}:${port}/`))?.status, 200);
    assert.match((await docker(a, 'logs', 'api')).stdout, /GET \/ 200/);
    assert.equal((await docker(a, 'rename', 'api', 'api-old')).exitCode, 0);
    assert.equal((await docker(a, 'ps', '--format', '{{.Names}}')).stdout, 'api-old\n');
    assert.equal((await docker(a, 'rm', '-f', 'api-old')).exitCode, 0);
    assert.equal((await docker(a, 'ps', '-a', '-q')).stdout, '');
  });

  it('fails on demand: pullfail, crash, unhealthy, flaky, fault files', async () => {
    const failed = await docker(a, 'pull', `${IMAGE}:v2-pullfail`);
    assert.equal(failed.exitCode, 1);
    assert.match(failed.stderr, /manifest for .*:v2-pullfail not found: manifest unknown/);

    assert.equal((await docker(a, 'run', '-d', '--name', 'crashy', `${IMAGE}:v3-crash`)).exitCode, 0);
    assert.equal(
      (await docker(a, 'inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', 'crashy')).stdout,
      'false 1\n',
    );
    assert.equal((await docker(a, 'ps', '-q', '--filter', 'name=crashy')).stdout, '');

    assert.equal(
      (await docker(a, 'run', '-d', '--name', 'sick', '-p', `${port}:80`, `${IMAGE}:v4-unhealthy`)).exitCode,
      0,
    );
    assert.equal((await get(`http://${fleet.hosts[0]!.address}:${port}/healthz`))?.status, 500);
    assert.equal((await a.exec(['curl', '-fsS', `http://localhost:${port}/healthz`])).exitCode, 22);

    const flaky = `${IMAGE}:v5-flaky`;
    assert.deepEqual([(await docker(a, 'pull', flaky)).exitCode, (await docker(a, 'pull', flaky)).exitCode], [1, 0]);

    fleet.fault('web-1', 'run.once', 'fail 125\ndocker: Error response from daemon: no space left on device.');
    const once = await docker(a, 'run', '-d', '--name', 'later', `${IMAGE}:v1`);
    assert.deepEqual(
      [once.exitCode, once.stderr],
      [125, 'docker: Error response from daemon: no space left on device.\n'],
    );
    assert.equal((await docker(a, 'run', '-d', '--name', 'later', `${IMAGE}:v1`)).exitCode, 0);
    fleet.fault('web-1', 'stop', 'fail\nstop refused');
    assert.equal((await docker(a, 'stop', 'later')).exitCode, 1);
    fleet.fault('web-1', 'stop', undefined);
    assert.equal((await docker(a, 'rm', '-f', 'later', 'sick', 'crashy')).exitCode, 0);
  });

  it('a hanging pull is killed by the runner timeout', async () => {
    const err = await a.exec(['docker', 'pull', `${IMAGE}:v6-hang`], { timeoutMs: 1500 }).catch((e: unknown) => e);
    assert.ok(err instanceof CommandTimeout, String(err));
    // The bracket keeps pgrep's pattern from matching its own command line.
    const left = await a.exec(['pgrep', '-f', 'docker pull .*v6-han[g]']);
    assert.deepEqual([left.exitCode, left.stdout], [1, '']);
  });

  it('compose: pull and up -d a service, recreate on a tag change, no-op when unchanged', async () => {
    const compose = `services:\n  api:\n    image: ${IMAGE}:\${TAG}\n    ports: ["${port}:8080"]\n    environment: { MODE: prod }\n`;
    await b.run(['mkdir', '-p', 'app']);
    await b.run(['sh', '-c', 'cat > app/compose.yaml'], { stdin: compose });
    await b.run(['sh', '-c', 'echo TAG=v1 > app/.env']);
    await b.run(['docker', 'compose', '--project-directory', 'app', 'pull', 'api']);
    const up = await b.run(['docker', 'compose', '--project-directory', 'app', 'up', '-d', 'api']);
    assert.match(up.stderr, /Container app-api-1 {2}Started/);
    const url = `http://${fleet.hosts[1]!.address}:${port}/healthz`;
    assert.equal(JSON.parse((await get(url))!.body).tag, 'v1');
    assert.match(
      (await b.run(['docker', 'compose', '--project-directory', 'app', 'up', '-d', 'api'])).stderr,
      /Running/,
    );
    await b.run(['sh', '-c', 'echo TAG=v2 > app/.env']);
    assert.match(
      (await b.run(['docker', 'compose', '--project-directory', 'app', 'up', '-d', 'api'])).stderr,
      /Recreated/,
    );
    assert.equal(JSON.parse((await get(url))!.body).tag, 'v2');
    const ps = await b.run([
      'docker',
      'ps',
      '--format',
      '{{.Names}} {{.Image}} {{.Label "com.docker.compose.service"}}',
    ]);
    assert.equal(ps.stdout, `app-api-1 ${IMAGE}:v2 api\n`);
    await b.run(['docker', 'compose', '--project-directory', 'app', 'down']);
    assert.equal((await b.run(['docker', 'ps', '-aq'])).stdout, '');
  });
});

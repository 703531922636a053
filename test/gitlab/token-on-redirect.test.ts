/**
 * The GitLab token is never sent on a redirect to another host (issue 12, item 8). Two real HTTP servers on
 * two loopback addresses: "GitLab" answers every API call with a redirect to the other host, which records
 * the headers it got. fjord's GitLab clients (manifest store, MR notifier) send the token as
 * `Authorization: Bearer`, which fetch drops when a redirect leaves the origin; a same-origin redirect
 * (an instance moving its API path) keeps it.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../lib/log.js';
import { GitlabManifestStore } from '../../lib/manifest/store-gitlab.js';
import { GitlabNotifier } from '../../lib/notify/gitlab.js';
import { Secret } from '../../lib/secret.js';
import { makeJob } from '../fixtures/jobs.js';

const TOKEN = 'glpat-redirect-test-0123456789';

interface Recorder {
  server: Server;
  url: string;
  seen: Array<{ path: string; headers: IncomingHttpHeaders }>;
}

async function listen(
  host: string,
  handle: (path: string, res: import('node:http').ServerResponse) => void,
): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => handle(req.url ?? '', res));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}`, seen };
}

const carriesToken = (headers: IncomingHttpHeaders) => Object.values(headers).some((v) => String(v).includes(TOKEN));

describe('GitLab token and redirects', () => {
  let other: Recorder;
  let gitlab: Recorder;
  before(async () => {
    other = await listen('127.0.0.2', (_path, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"404 Not Found"}');
    });
    gitlab = await listen('127.0.0.1', (path, res) => {
      // Same-origin hop first (`/moved` prefix), then off to the other host.
      if (!path.startsWith('/moved/')) return void res.writeHead(307, { location: `/moved${path}` }).end();
      res.writeHead(307, { location: `${other.url}${path}` }).end();
    });
  });
  after(async () => {
    for (const s of [gitlab?.server, other?.server])
      await new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)));
  });

  it('the manifest store: the token reaches GitLab across a same-origin redirect, never the other host', async () => {
    const store = new GitlabManifestStore({
      url: gitlab.url,
      token: new Secret(TOKEN),
      project: 'acme/manifests',
      branch: 'main',
      timeoutMs: 10_000,
    });
    await assert.rejects(store.read('prod/values.yaml'));
    const moved = gitlab.seen.filter((r) => r.path.startsWith('/moved/'));
    assert.ok(moved.length > 0, 'the same-origin redirect was followed');
    assert.ok(
      moved.every((r) => carriesToken(r.headers)),
      'a same-origin redirect keeps the token',
    );
    assert.ok(other.seen.length > 0, 'the cross-host redirect was followed');
    for (const r of other.seen)
      assert.equal(carriesToken(r.headers), false, `token sent to ${other.url}: ${JSON.stringify(r.headers)}`);
  });

  it('the MR notifier: notes and statuses never carry the token to the other host', async () => {
    other.seen.length = 0;
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (l: string) => void lines.push(l) });
    const notifier = new GitlabNotifier({ url: gitlab.url, token: new Secret(TOKEN), logger, timeoutMs: 10_000 });
    await notifier.jobStarted(makeJob());
    assert.ok(other.seen.length > 0, 'the notifier was redirected');
    for (const r of other.seen) assert.equal(carriesToken(r.headers), false, `token sent to ${other.url} (${r.path})`);
    assert.ok(lines.every((l) => !l.includes(TOKEN)));
  });
});

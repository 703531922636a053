/**
 * Issue 12, item 5: the status page is not public by default. `fjord start`'s embedded mode, real HTTP:
 * bound beyond loopback without `statusPage.tokenEnv` the page answers 401 and the start-up log says why;
 * with a token it needs it; on loopback it is open. Internal `address:port` stays off the page: a real
 * unreachable host (a closed loopback port) is reported by name, its address hidden.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { startEmbedded } from '../../lib/embedded/start-embedded.js';
import { ConfigError } from '../../lib/errors.js';
import { hideAddresses } from '../../lib/hide-addresses.js';
import { createLogger } from '../../lib/log.js';
import { formatHolds } from '../../lib/holds/hold.js';
import { Secret } from '../../lib/secret.js';

const TOKEN = 'status-token-0b7e3c91d5a2';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

async function start(
  hostname: string,
  { extraYaml = '', env = {} as NodeJS.ProcessEnv, sshPort = 1, holds = '' } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-exposure-'));
  mkdirSync(join(dir, 'seed/api'), { recursive: true });
  writeFileSync(join(dir, 'seed/api/prod.yaml'), 'image:\n  tag: v1\n');
  if (holds) {
    mkdirSync(join(dir, 'seed/.fjord'));
    writeFileSync(join(dir, 'seed/.fjord/holds.yaml'), holds);
  }
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  const configPath = join(dir, 'fjord.yaml');
  const config = parseConfig(`
sources: { gitlab: {} }
manifest: { backend: git, repository: ./manifests.git, seed: ./seed }
ssh: { privateKeyEnv: FJORD_SSH_KEY, connectTimeout: 5s }
hosts:
  web-1: { address: 127.0.0.1, port: ${sshPort}, hostKey: "SHA256:${'A'.repeat(43)}" }
reconcile: { interval: 0 }
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    waitForImage: 0s
    environments:
      prod: { manifest: { file: api/prod.yaml, path: image.tag }, hosts: [web-1] }
${extraYaml}`);
  const lines: string[] = [];
  const running = await startEmbedded({
    config,
    configPath,
    env: { FJORD_DATA_DIR: join(dir, 'data'), FJORD_SSH_KEY: readFileSync(join(dir, 'key'), 'utf8'), ...env },
    cwd: dir,
    logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    port: 0,
    hostname,
  });
  const port = new URL(running.url).port;
  // Always over loopback: 0.0.0.0 includes it.
  const get = (path = '/', headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { running, lines, get };
}

describe('status page exposure', () => {
  it('bound beyond loopback without statusPage.tokenEnv: 401, and the start-up log says why', async () => {
    const { running, lines, get } = await start('0.0.0.0');
    try {
      const res = await get();
      assert.equal(res.status, 401);
      const text = await res.text();
      assert.match(text, /statusPage\.tokenEnv is not set/);
      assert.doesNotMatch(text, /web-1|acme|<html/);
      const warn = lines
        .map((l) => JSON.parse(l))
        .find((l) => l.level === 'warn' && /status page answers 401/.test(l.msg));
      assert.ok(warn, lines.join('\n'));
      assert.match(warn.msg, /fjord listens on 0\.0\.0\.0, beyond loopback, and statusPage\.tokenEnv is not set/);
      assert.match(running.statusPage, /answers 401/);
      // Webhooks and health are not affected.
      assert.equal((await get('/healthz')).status, 200);
    } finally {
      await running.stop();
    }
  });

  it('beyond loopback with a token: 401 without it, 200 with it', async () => {
    const { running, get } = await start('0.0.0.0', {
      extraYaml: 'statusPage: { tokenEnv: FJORD_STATUS_TOKEN }',
      env: { FJORD_STATUS_TOKEN: TOKEN },
    });
    try {
      assert.equal((await get()).status, 401);
      assert.equal((await get('/', { authorization: `Bearer ${TOKEN}` })).status, 200);
    } finally {
      await running.stop();
    }
  });

  it('a status page token shorter than 16 characters stops the start-up', async () => {
    await assert.rejects(
      start('127.0.0.1', {
        extraYaml: 'statusPage: { tokenEnv: FJORD_STATUS_TOKEN }',
        env: { FJORD_STATUS_TOKEN: 'short-token' },
      }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /statusPage\.tokenEnv: FJORD_STATUS_TOKEN holds a token shorter than 16 characters/);
        assert.ok(!err.message.includes('short-token'));
        return true;
      },
    );
  });

  it('on loopback the page is open, and an unreachable host is shown by name, its address:port hidden', async () => {
    const sshPort = await closedPort();
    const { running, get } = await start('127.0.0.1', { sshPort });
    try {
      let html = '';
      // The first request may get "checking the hosts" while the first check runs: wait for the report.
      for (let i = 0; i < 100 && !html.includes('UNREACHABLE'); i++) {
        const res = await get();
        assert.equal(res.status, 200);
        html = await res.text();
        if (!html.includes('UNREACHABLE')) await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(html, /data-host="web-1" data-status="unreachable"/);
      assert.match(html, /host web-1 \(\[address\]\) unreachable/);
      assert.ok(!html.includes(`127.0.0.1:${sshPort}`) && !html.includes(`:${sshPort}`), 'no address:port on the page');
    } finally {
      await running.stop();
    }
  });
});

describe('status page holds', () => {
  /** The page once its first view is built (the very first request may get the placeholder while the check runs). */
  const pageOf = async (get: () => Promise<Response>) => {
    let html = '';
    for (let i = 0; i < 100 && (!html || html.includes('holds-unknown')); i++) {
      if (html) await new Promise((r) => setTimeout(r, 200));
      html = await (await get()).text();
    }
    return html;
  };
  it('shows a held environment: since, by and reason from the holds file, escaped, with known secrets and host addresses out', async () => {
    const secret = new Secret('hunter2-hold-secret-value');
    const hostile = `<script>alert(1)</script>`;
    const holds = formatHolds({
      'api/prod': {
        since: '2026-12-03T10:00:00.000Z',
        by: `eve ${hostile}`,
        reason: `db migration on 127.0.0.1:5432, token ${secret.reveal()}`,
        rollback: 'b'.repeat(40),
      },
    });
    const { running, get } = await start('127.0.0.1', { holds });
    try {
      const html = await pageOf(get);
      const row = /<tr class="row row-held problem" data-app="api" data-env="prod">[\s\S]*?<\/tr>/.exec(html)?.[0];
      assert.ok(row, html);
      assert.match(row, /<span class="badge badge-held">HELD<\/span>/);
      assert.match(row, /held since <time datetime="2026-12-03T10:00:00.000Z">/);
      assert.match(row, /by eve &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assert.match(row, /db migration on \[address\], token \[redacted\]/);
      assert.match(row, /rollback <code>bbbbbbbbbbbb<\/code>/);
      assert.match(row, /<code>fjord release api prod<\/code>/);
      assert.ok(
        !html.includes('hunter2-hold-secret-value') &&
          !html.includes('<script>alert') &&
          !html.includes('127.0.0.1:5432'),
      );
    } finally {
      await running.stop();
    }
  });

  it('says no environment is held when none is', async () => {
    const { running, get } = await start('127.0.0.1');
    try {
      const html = await pageOf(get);
      assert.match(html, /<h2>Holds<\/h2><p id="holds-none">No environment is held\.<\/p>/);
      assert.ok(!html.includes('class="row row-held'));
    } finally {
      await running.stop();
    }
  });
});

describe('hideAddresses', () => {
  it("hides IPv4 and IPv6 addresses with their ports and the configured hosts' own addresses; leaves versions inside words and names", () => {
    assert.equal(
      hideAddresses('host web-1 (10.0.0.5:22) unreachable: connect ECONNREFUSED 10.0.0.5:22'),
      'host web-1 ([address]) unreachable: connect ECONNREFUSED [address]',
    );
    assert.equal(hideAddresses('dial [fd00::1]:2222 and 192.168.1.10 failed'), 'dial [address] and [address] failed');
    assert.equal(
      hideAddresses('host web-2 (web2.internal:2222) unreachable; web2.internal.example stays', ['web2.internal']),
      'host web-2 ([address]) unreachable; web2.internal.example stays',
    );
    assert.equal(hideAddresses('image api:v1.2.3.4 tag 1.2.3 on web-1'), 'image api:v1.2.3.4 tag 1.2.3 on web-1');
  });

  it("keeps an image reference's registry and the kept URLs; hides a URL's host", () => {
    assert.equal(
      hideAddresses('deploy(api/prod): 10.0.0.9:5000/acme/api:v42'),
      'deploy(api/prod): 10.0.0.9:5000/acme/api:v42',
    );
    assert.equal(
      hideAddresses('probe http://10.0.0.5:8080/health and user@10.0.0.5:22/x failed'),
      'probe http://[address]/health and user@[address]/x failed',
    );
    assert.equal(
      hideAddresses('see http://10.0.0.2:8929/acme/api/-/commit/abc', [], ['http://10.0.0.2:8929']),
      'see http://10.0.0.2:8929/acme/api/-/commit/abc',
    );
  });
});

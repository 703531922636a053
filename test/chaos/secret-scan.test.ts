/**
 * The scan of `npm run chaos` must be able to fail: secrets declared and text captured through the real
 * contract (test/chaos/figures.ts, in a child process with its own FJORD_CHAOS_DIR) are found again by the
 * runner's scanner — a token as written, a signing key inside a JSON log line, one body line of a PEM
 * private key, private-key armour — and clean text gives nothing. Nothing here is declared in the suite's
 * own directory: the planted secrets must not count as leaks of the real run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { findLeaks, needlesOf, scanChaosDir } from './scan-secrets.js';

const figuresModule = fileURLToPath(new URL('./figures.ts', import.meta.url));

/** Runs `code` in a child process whose figures.ts writes to `dir`. */
function inChaosDir(dir: string, code: string): void {
  const script = `import { captureText, declareSecrets } from ${JSON.stringify(figuresModule)};\n${code}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, FJORD_CHAOS_DIR: dir },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
}

describe('chaos secret scan', () => {
  const token = `gl-token-${randomBytes(10).toString('hex')}`;
  const signingKey = 'whsec_' + randomBytes(32).toString('base64');
  const quoted = `pa"ss\\word-${randomBytes(4).toString('hex')}`;
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const bodyLine = privateKey.split('\n')[5]!;

  it('finds every planted secret, as written, JSON-escaped, and a private key line by line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-scan-'));
    try {
      inChaosDir(
        dir,
        `
        declareSecrets(${JSON.stringify(token)}, ${JSON.stringify(signingKey)}, ${JSON.stringify(quoted)}, ${JSON.stringify(privateKey)}, 'short');
        captureText('a clean line');
        captureText(JSON.stringify({ level: 'warn', msg: 'webhook refused', token: ${JSON.stringify(token)} }));
        captureText('{"msg":"signed with ${signingKey}"}');
        captureText(JSON.stringify({ msg: 'login', password: ${JSON.stringify(quoted)} }));
      `,
      );
      const scan = scanChaosDir(dir, [
        { name: 'stderr', text: `ok\nssh said: ${bodyLine}\n` },
        { name: 'stdout', text: 'not ok 1\n-----BEGIN OPENSSH PRIVATE KEY-----\n' },
      ]);
      assert.equal(scan.secrets, 4, 'the short value is not a secret worth scanning for');
      const where = scan.leaks.map((l) => l.where).sort();
      assert.deepEqual(where, ['captured.log:2', 'captured.log:3', 'captured.log:4', 'stderr:2', 'stdout:2']);
      assert.ok(scan.leaks.some((l) => l.label === 'private key armour'));
      assert.ok(scan.leaks.some((l) => /body line 5$/.test(l.label)));
      // The report names a fingerprint, never the secret.
      const report = JSON.stringify(scan.leaks);
      for (const s of [token, signingKey, quoted, bodyLine]) assert.ok(!report.includes(s));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('clean text has no leaks; a whole key counts its armour and every body line', () => {
    const needles = needlesOf([token, privateKey]);
    assert.deepEqual(
      findLeaks({ name: 'x', text: `gl-token-\n${token.slice(0, -1)}\nMIIE\n-----BEGIN PUBLIC KEY-----\n` }, needles),
      [],
    );
    const leaks = findLeaks({ name: 'x', text: privateKey }, needles);
    const bodyLines = privateKey.split('\n').filter((l) => l.length >= 20 && !l.startsWith('-----')).length;
    assert.ok(bodyLines >= 20);
    // The whole key, its armour, and each body line of 20+ characters.
    assert.equal(leaks.length, 1 + 1 + bodyLines);
  });

  it('nothing declared: nothing to find, and the scan says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-scan-'));
    try {
      inChaosDir(dir, `captureText(${JSON.stringify(token)});`);
      const scan = scanChaosDir(dir);
      assert.equal(scan.secrets, 0);
      assert.deepEqual(scan.leaks, []);
      assert.ok(scan.bytes > token.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

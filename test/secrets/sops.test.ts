// SOPS/age decryption in-process (lib/secrets): a file written by the real sops binary, fjord's own
// encryptor, tampering, a wrong identity, and what may become an env file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { Secret } from '../../lib/secret.js';
import { ageEncrypt } from '../../lib/secrets/age-key.js';
import { SecretsIdentityMismatch, SecretsInvalid } from '../../lib/secrets/errors.js';
import { decryptAppSecrets } from '../../lib/secrets/load-app-secrets.js';
import { decryptSops, encryptSops, sopsRecipients } from '../../lib/secrets/sops.js';

// Written by sops 3.7.1 for age1106dn… (its public test key beside it): github.com/denis256/terragrunt-tests,
// issue-2103/file.enc.yaml (commit 8f811e98ba1c4c639e173be86f4d910201260f1e) and issue-2103/keys.txt; the
// cleartext is issue-2103/file.yaml.
const REAL_SOPS = readFileSync(new URL('./fixtures/terragrunt-issue-2103.enc.yaml', import.meta.url), 'utf8');
const REAL_KEY = new Secret('AGE-SECRET-KEY-1YQMYYAHGUU5VK67GKY6RM8YEKTW687RT9KPUG5X8FD0F988PCXKQXM8RMY');

const keyPair = async () => {
  const identity = await generateIdentity();
  return { identity: new Secret(identity), recipient: await identityToRecipient(identity) };
};

describe('SOPS files with age recipients', () => {
  it('decrypts a file written by the real sops binary (3.7.1, age) and verifies its MAC', async () => {
    const tree = await decryptSops(REAL_SOPS, [REAL_KEY], 'real');
    const secrets = tree.get('secrets') as Map<string, unknown>;
    assert.equal(secrets.get('SOME SECRET'), '0\\\\\\\\x629A673A8242c2AC4B7B8C5D8735fbeac21A6205');
    assert.deepEqual(sopsRecipients(REAL_SOPS, 'real'), [
      'age106dn94074uskzjua39h4v0ql89l528wrqp2f84xpcznpr9f6ye4q9k8hp8',
    ]);
  });

  it('refuses a real sops file whose MAC no longer matches (a value added by hand)', async () => {
    const tampered = REAL_SOPS.replace('sops:\n', 'EXTRA_unencrypted: added\nsops:\n');
    await assert.rejects(
      decryptSops(tampered, [REAL_KEY], 'real'),
      (e: Error) => e instanceof SecretsInvalid && /MAC mismatch/.test(e.message),
    );
  });

  it("refuses values moved between keys (the path is GCM's additional data)", async () => {
    const { identity, recipient } = await keyPair();
    const text = await encryptSops(
      new Map([
        ['A_KEY', 'alpha-value'],
        ['B_KEY', 'bravo-value'],
      ]),
      [recipient],
    );
    const a = /A_KEY: (\S+)/.exec(text)![1]!;
    const b = /B_KEY: (\S+)/.exec(text)![1]!;
    const swapped = text.replace(a, 'SWAP').replace(b, a).replace('SWAP', b);
    await assert.rejects(
      decryptSops(swapped, [identity], 'f'),
      (e: Error) => e instanceof SecretsInvalid && /A_KEY does not decrypt/.test(e.message),
    );
  });

  it("fjord's encryptor round-trips through its decryptor with strings, ints and bools, MAC included", async () => {
    const { identity, recipient } = await keyPair();
    const text = await encryptSops(
      new Map<string, string | number | boolean>([
        ['DATABASE_URL', 'postgres://u:p@db/app'],
        ['WORKERS', 4],
        ['DEBUG', false],
      ]),
      [recipient],
    );
    assert.match(text, /^DATABASE_URL: ENC\[AES256_GCM,data:[^,]+,iv:[^,]+,tag:[^,]+,type:str\]$/m);
    assert.match(text, /^    lastmodified: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$/m);
    assert.doesNotMatch(text, /postgres:/);
    const tree = await decryptSops(text, [identity], 'f');
    assert.deepEqual(
      [...tree],
      [
        ['DATABASE_URL', 'postgres://u:p@db/app'],
        ['WORKERS', 4],
        ['DEBUG', false],
      ],
    );
  });

  it('a wrong identity is SecretsIdentityMismatch naming the file, not a value', async () => {
    const { recipient } = await keyPair();
    const other = await keyPair();
    const text = await encryptSops(new Map([['API_TOKEN', 'tok-123456789']]), [recipient]);
    await assert.rejects(decryptAppSecrets({ file: 'secrets/api.yaml' }, text, [other.identity]), (e: Error) => {
      assert.ok(e instanceof SecretsIdentityMismatch);
      assert.match(e.message, /^secrets file secrets\/api\.yaml: none of the worker's age identities is a recipient/);
      assert.doesNotMatch(e.message, /tok-123456789|AGE-SECRET/);
      return true;
    });
    await assert.rejects(decryptAppSecrets({ file: 'secrets/api.yaml' }, text, []), /no age identity configured/);
  });

  it('only env names and one-line values become an env file; the error names the key, never the value', async () => {
    const { identity, recipient } = await keyPair();
    const bad = await encryptSops(new Map([['MULTI', 'line-one\nline-two-secret']]), [recipient]);
    await assert.rejects(
      decryptAppSecrets({ file: 's.yaml' }, bad, [identity]),
      (e: Error) => /MULTI contains a newline/.test(e.message) && !e.message.includes('line-two-secret'),
    );
    const name = await encryptSops(new Map([['not-a-name', 'v']]), [recipient]);
    await assert.rejects(
      decryptAppSecrets({ file: 's.yaml' }, name, [identity]),
      /"not-a-name" is not an environment variable name/,
    );
    const good = await decryptAppSecrets(
      { file: 's.yaml' },
      await encryptSops(
        new Map([
          ['B', 'two'],
          ['A', 'one=1'],
        ]),
        [recipient],
      ),
      [identity],
    );
    assert.equal(good.envFile.reveal(), 'A=one=1\nB=two\n');
    assert.deepEqual(good.keys, ['A', 'B']);
    assert.equal(String(good.envFile), '[redacted]');
    assert.equal(JSON.stringify(good).includes('one=1'), false);
  });

  it('an armored age-encrypted dotenv file (*.age) decrypts to the same env file', async () => {
    const { identity, recipient } = await keyPair();
    const text = await ageEncrypt('# app env\nexport A=one\nB="two words"\n', [recipient]);
    const s = await decryptAppSecrets({ file: 'secrets/api.env.age' }, text, [identity]);
    assert.equal(s.envFile.reveal(), 'A=one\nB=two words\n');
  });
});

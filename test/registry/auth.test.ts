import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  imageExists,
  registryCredentials,
  RegistryAuthFailed,
  TokenCache,
  waitForImage,
} from '../../lib/registry/index.js';
import { fetchToken } from '../../lib/registry/fetch-token.js';
import { tokenKey } from '../../lib/registry/token-cache.js';
import { Secret } from '../../lib/secret.js';
import { startFaultProxy, type FaultProxy } from '../fixtures/fault-proxy.js';
import { pushImage } from '../fixtures/push-image.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';
import { startTokenServer, type TokenServer } from '../fixtures/token-server.js';

const USER = 'deployer-ci';
const PASSWORD = 'Pa55-w0rd-never-logged';
const WRONG = 'Wr0ng-pa55-never-logged';

/** Credentials the way the worker gets them: named in fjord.yaml, read from the environment. */
const credentialsFor = (host: string, password?: string) =>
  registryCredentials(
    [password ? { host, insecure: true, usernameEnv: 'REG_USER', passwordEnv: 'REG_PASS' } : { host, insecure: true }],
    { REG_USER: USER, REG_PASS: password },
  );

/** Neither the password, the user name nor the Basic header shows up in any rendering of the error. */
function assertNoSecrets(err: unknown): true {
  assert.ok(err instanceof Error);
  const texts = [err.message, String(err), err.stack ?? '', JSON.stringify(err), inspect(err, { depth: 10 })];
  for (const secret of [
    PASSWORD,
    WRONG,
    USER,
    Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
    Buffer.from(`${USER}:${WRONG}`).toString('base64'),
  ]) {
    for (const text of texts) assert.ok(!text.includes(secret), `secret leaked into: ${text}`);
  }
  return true;
}

describe('Basic auth: real docker-registry with a bcrypt htpasswd file', () => {
  let registry: RegistryFixture;
  let proxy: FaultProxy;
  const ref = (tag: string, host = registry.host) => ({ image: `${host}/acme/api`, tag });

  before(async () => {
    registry = await startRegistry({ auth: { htpasswd: { [USER]: PASSWORD } } });
    proxy = await startFaultProxy({ target: registry.url });
    await pushImage(registry.url, 'acme/api', 'v1', { username: USER, password: PASSWORD });
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('answers with the configured credentials, and keeps sending them without a new 401', async () => {
    const opts = { credentials: credentialsFor(proxy.host, PASSWORD), tokens: new TokenCache() };
    assert.equal(await imageExists(ref('v1', proxy.host), opts), true);
    assert.equal(proxy.requests.length, 2, 'a 401, then the answer');
    assert.equal(await imageExists(ref('v2', proxy.host), opts), false);
    assert.equal(proxy.requests.length, 3, 'credentials sent up front the second time');
  });

  it('without credentials: RegistryAuthFailed saying none are configured', async () => {
    await assert.rejects(
      imageExists(ref('v1'), { credentials: credentialsFor(registry.host), tokens: new TokenCache() }),
      (err: unknown) => {
        assert.ok(err instanceof RegistryAuthFailed);
        assert.match(err.message, /none are configured/);
        return true;
      },
    );
  });

  it('a wrong password is RegistryAuthFailed at once, with no credential in the error', async () => {
    const started = Date.now();
    const opts = { credentials: credentialsFor(registry.host, WRONG), tokens: new TokenCache(), deadlineMs: 30_000 };
    await assert.rejects(
      waitForImage(ref('v1'), opts),
      (err: unknown) => err instanceof RegistryAuthFailed && assertNoSecrets(err),
    );
    assert.ok(Date.now() - started < 3000);
  });
});

describe('Bearer token auth: real docker-registry (auth.token) behind a token-server stand-in', () => {
  let tokens: TokenServer;
  let registry: RegistryFixture;
  const ref = (tag: string) => ({ image: `${registry.host}/acme/api`, tag });

  before(async () => {
    tokens = await startTokenServer({ users: { [USER]: PASSWORD } });
    registry = await startRegistry({ auth: { token: tokens } });
    await pushImage(registry.url, 'acme/api', 'v1', { username: USER, password: PASSWORD });
  });
  after(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  it('fetches a token with Basic credentials for the pull scope, and the registry accepts it', async () => {
    tokens.requests.length = 0;
    const opts = { credentials: credentialsFor(registry.host, PASSWORD), tokens: new TokenCache() };
    assert.equal(await imageExists(ref('v1'), opts), true);
    assert.equal(await imageExists(ref('v2'), opts), false);
    assert.deepEqual(tokens.requests, [{ user: USER, scopes: ['repository:acme/api:pull'], status: 200 }]);
  });

  it('caches the token until shortly before it expires', async () => {
    tokens.requests.length = 0;
    let now = Date.now();
    const cache = new TokenCache(() => now);
    const opts = { credentials: credentialsFor(registry.host, PASSWORD), tokens: cache };
    for (let i = 0; i < 3; i++) assert.equal(await imageExists(ref('v1'), opts), true);
    assert.equal(tokens.requests.length, 1);
    now += 296_000; // tokens live 300 s; the cache lets go 5 s early
    assert.equal(await imageExists(ref('v1'), opts), true);
    assert.equal(tokens.requests.length, 2);
  });

  it('a cached token the registry no longer accepts is refreshed once', async () => {
    tokens.requests.length = 0;
    const credentials = credentialsFor(registry.host, PASSWORD);
    const cache = new TokenCache();
    cache.set(
      tokenKey(registry.url, 'repository:acme/api:pull', credentials[0]),
      new Secret('Bearer not-a-valid-token'),
      60_000,
    );
    assert.equal(await imageExists(ref('v1'), { credentials, tokens: cache }), true);
    assert.equal(tokens.requests.length, 1);
  });

  it('anonymous pull works when the token server grants it', async () => {
    tokens.anonymousActions.push('pull');
    try {
      tokens.requests.length = 0;
      assert.equal(
        await imageExists(ref('v1'), { credentials: credentialsFor(registry.host), tokens: new TokenCache() }),
        true,
      );
      assert.deepEqual(tokens.requests, [{ user: undefined, scopes: ['repository:acme/api:pull'], status: 200 }]);
    } finally {
      tokens.anonymousActions.length = 0;
    }
  });

  it('a 401 even with a fresh token is RegistryAuthFailed at once', async () => {
    tokens.requests.length = 0;
    const started = Date.now();
    const opts = { credentials: credentialsFor(registry.host), tokens: new TokenCache(), deadlineMs: 30_000 };
    await assert.rejects(waitForImage(ref('v1'), opts), (err: unknown) => {
      assert.ok(err instanceof RegistryAuthFailed);
      assert.match(err.message, /anonymous access \(HTTP 401 after authenticating\)/);
      return true;
    });
    assert.ok(Date.now() - started < 3000);
    assert.equal(tokens.requests.length, 1, 'one token request, no loop');
  });

  it('a wrong password is refused by the realm: RegistryAuthFailed with no credential in the error', async () => {
    tokens.requests.length = 0;
    await assert.rejects(
      imageExists(ref('v1'), { credentials: credentialsFor(registry.host, WRONG), tokens: new TokenCache() }),
      (err: unknown) =>
        err instanceof RegistryAuthFailed &&
        /token realm .* refused the configured credentials/.test(err.message) &&
        assertNoSecrets(err),
    );
    assert.deepEqual(
      tokens.requests.map((r) => r.status),
      [401],
    );
  });

  it('never sends credentials to a plain-http realm named by an https registry', async () => {
    tokens.requests.length = 0;
    const [credential] = credentialsFor(registry.host, PASSWORD);
    await assert.rejects(
      fetchToken({ realm: tokens.realm, service: tokens.service }, 'repository:acme/api:pull', {
        credential,
        secureRegistry: true,
        timeoutMs: 1000,
      }),
      (err: unknown) => err instanceof RegistryAuthFailed && assertNoSecrets(err),
    );
    assert.deepEqual(tokens.requests, []);
  });
});

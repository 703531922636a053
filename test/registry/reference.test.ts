import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/errors.js';
import { backoffDelay } from '../../lib/registry/backoff-delay.js';
import { formatWait, InvalidImageReference } from '../../lib/registry/errors.js';
import { credentialFor, registryCredentials } from '../../lib/registry/credentials.js';
import { parseChallenges } from '../../lib/registry/parse-challenge.js';
import { checkImageRef, locateImage } from '../../lib/registry/reference.js';

describe('locateImage (distribution/reference normalisation)', () => {
  const cases: [string, string, string, string][] = [
    ['nginx', 'docker.io', 'registry-1.docker.io', 'library/nginx'],
    ['bitnami/redis', 'docker.io', 'registry-1.docker.io', 'bitnami/redis'],
    ['docker.io/nginx', 'docker.io', 'registry-1.docker.io', 'library/nginx'],
    ['index.docker.io/acme/api', 'docker.io', 'registry-1.docker.io', 'acme/api'],
    ['localhost/api', 'localhost', 'localhost', 'api'],
    ['localhost:5000/acme/api', 'localhost:5000', 'localhost:5000', 'acme/api'],
    ['registry.example.com/acme/team/api', 'registry.example.com', 'registry.example.com', 'acme/team/api'],
    ['127.0.0.1:41234/acme/api', '127.0.0.1:41234', '127.0.0.1:41234', 'acme/api'],
    ['Registry/api', 'registry', 'Registry', 'api'],
    ['ghcr.io/acme/api', 'ghcr.io', 'ghcr.io', 'acme/api'],
  ];
  for (const [image, registry, apiHost, repository] of cases) {
    it(image, () => assert.deepEqual(locateImage(image), { registry, apiHost, repository }));
  }
});

describe('checkImageRef', () => {
  it('accepts a valid reference', () => {
    assert.deepEqual(checkImageRef({ image: '127.0.0.1:5000/acme/api', tag: 'v1.2.3_rc-1' }), {
      image: '127.0.0.1:5000/acme/api',
      tag: 'v1.2.3_rc-1',
    });
  });
  const hostile: [string, string][] = [
    ['acme/api', '../../v2/_catalog'],
    ['acme/api', 'v1?x=1'],
    ['acme/api', 'v1#frag'],
    ['acme/api', '-rf'],
    ['acme/api', '.hidden'],
    ['acme/api', 'a'.repeat(129)],
    ['acme/api', 'v1\nHost: evil'],
    ['acme/api', ''],
    ['acme/../../etc', 'v1'],
    ['acme/api/manifests/x?', 'v1'],
    ['user:pass@registry.example.com/api', 'v1'],
    ['acme/API', 'v1'],
    ['acme/api:v1', 'v1'],
    ['acme/api@sha256:abc', 'v1'],
    ['https://registry.example.com/api', 'v1'],
    ['acme//api', 'v1'],
    ['acme/api%2f..', 'v1'],
    ['a/' + 'b'.repeat(300), 'v1'],
  ];
  for (const [image, tag] of hostile) {
    it(`rejects ${JSON.stringify(image)}:${JSON.stringify(tag)}`, () => {
      assert.throws(() => checkImageRef({ image, tag }), InvalidImageReference);
    });
  }
});

describe('parseChallenges', () => {
  it('reads a registry Bearer challenge', () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"';
    assert.deepEqual(parseChallenges(header), [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/nginx:pull',
        },
      },
    ]);
  });
  it('reads several challenges, token values, escapes and odd spacing', () => {
    const header =
      'Basic realm="a \\"quoted\\" realm" , Bearer realm="https://r/t", service=reg, error="insufficient_scope"';
    assert.deepEqual(parseChallenges(header), [
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
      { scheme: 'bearer', params: { realm: 'https://r/t', service: 'reg', error: 'insufficient_scope' } },
    ]);
  });
  it('skips a token68 and survives garbage', () => {
    assert.deepEqual(parseChallenges('Negotiate abc==, Basic realm=x'), [
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
    assert.deepEqual(parseChallenges(''), []);
    assert.equal(parseChallenges('"""===,,,').length, 0);
  });
});

describe('backoffDelay', () => {
  const opts = { initialDelayMs: 2000, maxDelayMs: 30_000 };
  it('doubles from the initial delay up to the maximum, with jitter in [d/2, d]', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, opts, () => 1)),
      [2000, 4000, 8000, 16000, 30000, 30000, 30000],
    );
    assert.deepEqual(
      [0, 1, 4].map((n) => backoffDelay(n, opts, () => 0)),
      [1000, 2000, 15000],
    );
    for (let n = 0; n < 10; n++) {
      const d = backoffDelay(n, opts);
      const nominal = Math.min(30_000, 2000 * 2 ** n);
      assert.ok(d >= nominal / 2 && d <= nominal, `${n}: ${d}`);
    }
  });
});

describe('formatWait', () => {
  it('prints durations for people', () => {
    assert.deepEqual([1234, 42_000, 900_000, 61_000].map(formatWait), ['1.2s', '42s', '15m0s', '1m1s']);
  });
});

describe('registryCredentials', () => {
  const reg = (over: object) => ({ host: 'registry.example.com', insecure: false, ...over });
  it('reads credentials from the environment, wrapped in Secret', () => {
    const [c] = registryCredentials([reg({ usernameEnv: 'REG_USER', passwordEnv: 'REG_PASS' })], {
      REG_USER: 'deployer',
      REG_PASS: 'hunter2-hunter2',
    });
    assert.equal(c!.basic!.password.reveal(), 'hunter2-hunter2');
    assert.equal(String(c!.basic!.password), '[redacted]');
    assert.ok(!JSON.stringify(c).includes('hunter2'));
  });
  it('matches Docker Hub under any of its names, and is anonymous when none is configured', () => {
    const list = registryCredentials(
      [reg({ host: 'index.docker.io' }), reg({ host: 'Registry.Example.com:5000', insecure: true })],
      {},
    );
    assert.equal(credentialFor(locateImage('nginx').registry, list)?.host, 'docker.io');
    assert.equal(credentialFor(locateImage('registry.example.com:5000/api').registry, list)?.insecure, true);
    assert.equal(credentialFor('ghcr.io', list), undefined);
    assert.equal(list[0]!.basic, undefined);
  });
  it('names unset variables and half-configured pairs', () => {
    assert.throws(
      () =>
        registryCredentials(
          [reg({ usernameEnv: 'REG_USER', passwordEnv: 'REG_PASS' }), reg({ usernameEnv: 'ONLY_USER' })],
          { REG_USER: 'u', ONLY_USER: 'x' },
        ),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.issues, [
          'registries[0].passwordEnv: environment variable REG_PASS is not set',
          'registries[1]: set both usernameEnv and passwordEnv, or neither',
        ]);
        return true;
      },
    );
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  imageExists,
  InvalidImageReference,
  RegistryError,
  RegistryUnavailable,
  TokenCache,
} from '../../lib/registry/index.js';
import { startFaultProxy, type FaultProxy } from '../fixtures/fault-proxy.js';
import { pushImage, pushIndex } from '../fixtures/push-image.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';

describe('imageExists against a real docker-registry (anonymous)', () => {
  let registry: RegistryFixture;
  let counter: FaultProxy;
  const creds = (host: string) => [{ host, insecure: true }];
  const check = (image: string, tag: string, host = registry.host) =>
    imageExists({ image: `${host}/${image}`, tag }, { credentials: creds(host), tokens: new TokenCache() });

  before(async () => {
    registry = await startRegistry();
    counter = await startFaultProxy({ target: registry.url });
    const single = await pushImage(registry.url, 'acme/api', 'v1');
    await pushIndex(registry.url, 'acme/api', 'multi', [single]);
  });
  after(async () => {
    await counter?.stop();
    await registry?.stop();
  });

  it('finds a pushed OCI manifest and an OCI index (both need their Accept types on distribution 2.8)', async () => {
    assert.equal(await check('acme/api', 'v1'), true);
    assert.equal(await check('acme/api', 'multi'), true);
  });

  it('answers false for an unknown tag and an unknown repository', async () => {
    assert.equal(await check('acme/api', 'v2'), false);
    assert.equal(await check('acme/nothing-here', 'v1'), false);
  });

  it('sends HEAD /v2/<name>/manifests/<tag> and nothing else', async () => {
    counter.requests.length = 0;
    assert.equal(await check('acme/api', 'v1', counter.host), true);
    assert.deepEqual(counter.requests, [{ method: 'HEAD', url: '/v2/acme/api/manifests/v1' }]);
  });

  it('rejects hostile names and tags before any request', async () => {
    counter.requests.length = 0;
    const hostile: [string, string][] = [
      ['acme/api', '../../../v2/_catalog'],
      ['acme/api', 'v1?digest=x'],
      ['acme/api', 'v1 HTTP/1.1\r\nX: y'],
      ['acme/api', '-v1'],
      ['acme/../api', 'v1'],
      ['acme/api/../../_catalog', 'v1'],
      ['acme/API', 'v1'],
      ['acme/api#x', 'v1'],
    ];
    for (const [image, tag] of hostile) {
      await assert.rejects(check(image, tag, counter.host), InvalidImageReference, `${image}:${tag}`);
    }
    assert.deepEqual(counter.requests, []);
  });

  it('turns a closed port into RegistryUnavailable', async () => {
    const port = await closedPort();
    await assert.rejects(check('acme/api', 'v1', `127.0.0.1:${port}`), (err: unknown) => {
      assert.ok(err instanceof RegistryUnavailable);
      assert.equal(err.retryable, true);
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('turns 5xx into RegistryUnavailable and other statuses into a non-retryable RegistryError', async () => {
    const proxy = await startFaultProxy({ fault: (req) => ({ status: req.url?.includes('/broken/') ? 503 : 400 }) });
    try {
      await assert.rejects(check('acme/broken', 'v1', proxy.host), RegistryUnavailable);
      await assert.rejects(check('acme/odd', 'v1', proxy.host), (err: unknown) => {
        assert.ok(err instanceof RegistryError && !(err instanceof RegistryUnavailable));
        assert.equal(err.retryable, false);
        assert.match(err.message, /HTTP 400/);
        return true;
      });
    } finally {
      await proxy.stop();
    }
  });

  it('gives up on a registry that does not answer after the per-request timeout', async () => {
    const proxy = await startFaultProxy({ fault: () => ({ hang: true }) });
    try {
      const started = Date.now();
      await assert.rejects(
        imageExists({ image: `${proxy.host}/acme/api`, tag: 'v1' }, { credentials: creds(proxy.host), timeoutMs: 300 }),
        (err: unknown) => err instanceof RegistryUnavailable && /no answer within 300 ms/.test(err.message),
      );
      assert.ok(Date.now() - started < 3000);
    } finally {
      await proxy.stop();
    }
  });

  it('uses https for a registry not marked insecure', async () => {
    // A plain-http registry spoken to over TLS fails the handshake: proof that https was used.
    await assert.rejects(
      imageExists({ image: `${registry.host}/acme/api`, tag: 'v1' }, { timeoutMs: 3000 }),
      RegistryUnavailable,
    );
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

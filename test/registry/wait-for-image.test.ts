import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ImageNotFound,
  InvalidImageReference,
  RegistryAuthFailed,
  waitForImage,
  type WaitInfo,
} from '../../lib/registry/index.js';
import { startFaultProxy } from '../fixtures/fault-proxy.js';
import { pushImage } from '../fixtures/push-image.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';

describe('waitForImage against a real docker-registry', () => {
  let registry: RegistryFixture;
  const credentials = (host: string) => [{ host, insecure: true }];

  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  it('returns at once when the image is already there', async () => {
    await pushImage(registry.url, 'acme/ready', 'v1');
    let beats = 0;
    const result = await waitForImage(
      { image: `${registry.host}/acme/ready`, tag: 'v1' },
      { credentials: credentials(registry.host), deadlineMs: 5000, heartbeat: () => void beats++ },
    );
    assert.equal(result.checks, 1);
    assert.equal(beats, 0);
  });

  it('succeeds when CI pushes the image while it waits, calling heartbeat on each wait', async () => {
    const beats: WaitInfo[] = [];
    const waits: WaitInfo[] = [];
    const pushed = new Promise<number>((resolve, reject) =>
      setTimeout(() => pushImage(registry.url, 'acme/api', 'late').then(() => resolve(Date.now()), reject), 700),
    );
    const started = Date.now();
    const result = await waitForImage(
      { image: `${registry.host}/acme/api`, tag: 'late' },
      {
        credentials: credentials(registry.host),
        deadlineMs: 10_000,
        initialDelayMs: 100,
        maxDelayMs: 400,
        heartbeat: (i) => void beats.push(i),
        onWait: (i) => void waits.push(i),
      },
    );
    const pushedAt = await pushed;
    assert.ok(Date.now() >= pushedAt, 'returned only after the push');
    assert.ok(result.checks >= 3, `checks: ${result.checks}`);
    assert.equal(beats.length, result.checks - 1, 'one heartbeat before each pause');
    assert.deepEqual(waits, beats);
    assert.ok(
      beats.every((b) => b.delayMs >= 50 && b.delayMs <= 400 && b.error === undefined),
      JSON.stringify(beats),
    );
    assert.ok(result.waitedMs >= 600 && result.waitedMs < 5000, `waited ${result.waitedMs} ms since ${started}`);
  });

  it('past the deadline throws ImageNotFound naming image:tag and the wait', async () => {
    const started = Date.now();
    let beats = 0;
    await assert.rejects(
      waitForImage(
        { image: `${registry.host}/acme/api`, tag: 'never' },
        {
          credentials: credentials(registry.host),
          deadlineMs: 1200,
          initialDelayMs: 200,
          heartbeat: () => void beats++,
        },
      ),
      (err: unknown) => {
        assert.ok(err instanceof ImageNotFound, String(err));
        assert.equal(err.tag, 'never');
        assert.ok(err.waitedMs >= 1200, String(err.waitedMs));
        assert.match(
          err.message,
          new RegExp(
            `^image ${registry.host.replace(/\./g, '\\.')}/acme/api:never not found in the registry after waiting 1\\.[2-9]s \\(\\d+ checks\\)$`,
          ),
        );
        return true;
      },
    );
    const took = Date.now() - started;
    assert.ok(took >= 1200 && took < 2500, `took ${took} ms`);
    assert.ok(beats >= 2);
  });

  it('rides out registry 503s within the deadline', async () => {
    const proxy = await startFaultProxy({
      target: registry.url,
      fault: (_req, n) => (n <= 3 ? { status: 503 } : undefined),
    });
    try {
      await pushImage(registry.url, 'acme/flaky', 'v1');
      const errors: string[] = [];
      const result = await waitForImage(
        { image: `${proxy.host}/acme/flaky`, tag: 'v1' },
        {
          credentials: credentials(proxy.host),
          deadlineMs: 10_000,
          initialDelayMs: 50,
          onWait: (i) => void errors.push(i.error?.name ?? '-'),
        },
      );
      assert.equal(result.checks, 4);
      assert.deepEqual(errors, ['RegistryUnavailable', 'RegistryUnavailable', 'RegistryUnavailable']);
    } finally {
      await proxy.stop();
    }
  });

  it('an outage that outlasts the deadline is ImageNotFound that names the last registry error', async () => {
    const proxy = await startFaultProxy({ fault: () => ({ status: 502 }) });
    try {
      await assert.rejects(
        waitForImage(
          { image: `${proxy.host}/acme/api`, tag: 'v1' },
          { credentials: credentials(proxy.host), deadlineMs: 400, initialDelayMs: 50 },
        ),
        (err: unknown) => err instanceof ImageNotFound && /last registry error: .*HTTP 502/.test(err.message),
      );
    } finally {
      await proxy.stop();
    }
  });

  it('fails at once, without waiting, on refused credentials or a bad reference', async () => {
    const proxy = await startFaultProxy({ fault: () => ({ status: 403 }) });
    try {
      const started = Date.now();
      await assert.rejects(
        waitForImage(
          { image: `${proxy.host}/acme/api`, tag: 'v1' },
          { credentials: credentials(proxy.host), deadlineMs: 30_000 },
        ),
        RegistryAuthFailed,
      );
      await assert.rejects(
        waitForImage(
          { image: `${proxy.host}/acme/api`, tag: 'v1;reboot' },
          { credentials: credentials(proxy.host), deadlineMs: 30_000 },
        ),
        InvalidImageReference,
      );
      assert.ok(Date.now() - started < 2000);
      assert.equal(proxy.requests.length, 1);
    } finally {
      await proxy.stop();
    }
  });

  it('stops when the heartbeat throws (the job was lost to another worker) or the signal aborts', async () => {
    const ref = { image: `${registry.host}/acme/api`, tag: 'missing' };
    const opts = { credentials: credentials(registry.host), deadlineMs: 30_000, initialDelayMs: 100 };
    let beats = 0;
    await assert.rejects(
      waitForImage(ref, {
        ...opts,
        heartbeat: () => {
          if (++beats === 2) throw new Error('receipt is stale');
        },
      }),
      /receipt is stale/,
    );
    assert.equal(beats, 2);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(waitForImage(ref, { ...opts, initialDelayMs: 5000, signal: controller.signal }), {
      name: 'AbortError',
    });
    assert.ok(Date.now() - started < 2000);
  });
});

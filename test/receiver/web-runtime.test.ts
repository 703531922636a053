import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { webhookSecrets } from '../../lib/config/secrets.js';
import { silentLogger } from '../../lib/log.js';
import { createReceiver } from '../../lib/receiver/app.js';
import { MAX_HOOK_BODY_BYTES } from '../../lib/receiver/middleware.js';
import { gitlabHeaders, makeTestQueue, payload, testConfig, testEnv } from '../fixtures/receiver.js';

// Without Node bindings (Lambda, Workers, app.request) the body is read from the fetch Request's stream,
// under the same size limit.
describe('receiver without @hono/node-server', () => {
  it('reads the body from the Request stream: 202 within the limit, 413 past it without a length', async () => {
    const config = testConfig();
    const queue = await makeTestQueue();
    const app = createReceiver({ config, secrets: webhookSecrets(config, testEnv), queue, logger: silentLogger });
    const ok = await app.request('/hooks/gitlab', {
      method: 'POST',
      headers: gitlabHeaders('Merge Request Hook'),
      body: JSON.stringify(payload('gitlab-merge-request')),
    });
    assert.equal(ok.status, 202);
    assert.equal(queue.accepted.length, 1);

    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64 * 1024).fill(32));
      },
    });
    const big = await app.request('/hooks/gitlab', {
      method: 'POST',
      headers: gitlabHeaders('Merge Request Hook'),
      body: endless,
      duplex: 'half',
    } as RequestInit);
    assert.equal(big.status, 413);
    // Bounded by the limit (25 MiB by default): a few chunks past it at most.
    assert.ok(pulled <= MAX_HOOK_BODY_BYTES / (64 * 1024) + 4, `read ${pulled} chunks of an endless body`);
  });
});

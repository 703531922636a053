/**
 * Fuzz-style: a few thousand mutated webhooks (seeded, so a failure replays) sent as raw HTTP/1.1 over
 * loopback — raw, so that broken framing and header injection reach the server as sent. Whatever arrives:
 * the answer is 2xx or 4xx (the queue here never fails, so no 503), the server stays up, and a job is
 * queued only by an authenticated request answered 202, and only a job that passes its schema.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deployJobSchema } from '../../lib/job.js';
import { bases, makeCase, rawRequest } from '../fixtures/fuzz-cases.js';
import { prng } from '../fixtures/prng.js';
import { startTestReceiver, type TestReceiver } from '../fixtures/receiver.js';

const RUNS = Number(process.env.FJORD_FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FJORD_FUZZ_SEED ?? 20261123);

describe('receiver: fuzz', () => {
  let r: TestReceiver;
  before(async () => {
    // Mutated lengths reach past a 1 MiB limit cheaply; the 25 MiB default is in limits.test.ts.
    r = await startTestReceiver({ maxBodyBytes: 1024 * 1024 });
  });
  after(() => r.close());

  it(`${RUNS} mutated requests: 2xx/4xx only, no crash, jobs only from authenticated valid requests`, async () => {
    const rng = prng(SEED);
    const all = bases();
    const port = Number(new URL(r.url).port);
    const seen = new Map<number, number>();
    for (let i = 0; i < RUNS; i++) {
      const c = makeCase(rng, rng.pick(all));
      const sendsBefore = r.queue.sends;
      const acceptedBefore = r.queue.accepted.length;
      const status = await rawRequest(port, c);
      seen.set(status, (seen.get(status) ?? 0) + 1);
      const what = `case ${i} (seed ${SEED}): ${c.path} auth=${c.auth} status=${status} headers=${JSON.stringify(c.headers).slice(0, 400)}`;
      assert.ok(status >= 200 && status < 500, what);
      if (c.auth === 'invalid') assert.ok([400, 401, 404, 413, 431].includes(status), what);
      if (c.auth === 'valid') assert.ok([200, 202, 400, 413, 415, 422].includes(status), what);
      if (status !== 202) assert.equal(r.queue.sends, sendsBefore, `${what}: sent to the queue without a 202`);
      else assert.notEqual(c.auth, 'invalid', what);
      for (const job of r.queue.accepted.slice(acceptedBefore))
        assert.ok(deployJobSchema.safeParse(job).success, `${what}: invalid job queued`);
    }
    // The server is still up and answering.
    assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
    // The mix reached every layer: auth failures, size, type, JSON, zod, ignored and queued answers.
    for (const status of [200, 202, 400, 401, 413, 415, 422])
      assert.ok((seen.get(status) ?? 0) > 0, `no ${status} among ${JSON.stringify([...seen])}`);
  });
});

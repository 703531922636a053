/**
 * The `Queue` contract (DESIGN.md "Queue"), written once and run against every adapter: the embedded
 * queue here, SQS FIFO against a local SQS server later. It uses real, short timeouts (1–2 s) and polls
 * instead of expecting an answer from the first receive, because SQS may return fewer messages than are
 * ready. Each test asks `make()` for a fresh queue. Whole suite: about 8 s.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import type { DeadLetter, Queue, Received } from '../../lib/queue/queue.js';
import { StaleReceipt } from '../../lib/queue/queue.js';
import { makeJob, sendOptionsOf } from '../fixtures/jobs.js';

export interface ContractFixture {
  queue: Queue;
  /** The queue's maxAttempts (keep it small: 2–4). */
  maxAttempts: number;
  /** Dead letters (SQS: the messages in the dead-letter queue). */
  listDead(): Promise<DeadLetter[]>;
  /** Moves the queue past its dedup window. Absent where that cannot be done fast (SQS: 5 minutes). */
  passDedupWindow?(): Promise<void>;
  close(): Promise<void>;
}

/** Receives until `n` messages arrived or `timeoutMs` passed. */
export async function receiveN(queue: Queue, n: number, visibilitySec: number, timeoutMs = 4000): Promise<Received[]> {
  const got: Received[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < n && Date.now() < deadline) {
    const batch = await queue.receive(n - got.length, visibilitySec);
    got.push(...batch);
    if (batch.length === 0) await sleep(50);
  }
  return got;
}

/** Asserts that nothing is delivered for `ms`. */
async function expectNothing(queue: Queue, ms = 300): Promise<void> {
  const deadline = Date.now() + ms;
  do {
    const batch = await queue.receive(10, 30);
    assert.deepEqual(
      batch.map((m) => `${m.group} ${m.job.tag}`),
      [],
      'expected no message to be delivered',
    );
    await sleep(50);
  } while (Date.now() < deadline);
}

export function queueContract(name: string, make: () => Promise<ContractFixture>): void {
  describe(`Queue contract: ${name}`, () => {
    let fixture: ContractFixture | undefined;
    const open = async () => (fixture = await make());
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });
    // Fresh app names per test, so a shared server cannot mix tests up.
    const app = () => `app-${randomBytes(4).toString('hex')}`;
    const send = (q: Queue, job: ReturnType<typeof makeJob>) => q.send(job, sendOptionsOf(job));

    it('delivers the messages of a group in send order', async () => {
      const { queue } = await open();
      const a = app();
      for (let n = 1; n <= 5; n++) await send(queue, makeJob({ app: a, n }));
      const tags: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [m] = await receiveN(queue, 1, 30);
        assert.ok(m, `message ${i + 1} not delivered`);
        tags.push(m.job.tag);
        assert.equal(m.attempts, 1);
        await queue.ack(m);
      }
      assert.deepEqual(tags, ['v1', 'v2', 'v3', 'v4', 'v5']);
      await expectNothing(queue, 100);
    });

    it('keeps at most one message of a group in flight, and interleaves groups', async () => {
      const { queue } = await open();
      const [a, b, c] = [app(), app(), app()];
      for (const n of [1, 2, 3]) await send(queue, makeJob({ app: a, n }));
      for (const n of [1, 2]) await send(queue, makeJob({ app: b, n }));
      await send(queue, makeJob({ app: c, n: 1 }));
      const first = await receiveN(queue, 3, 30);
      assert.deepEqual(first.map((m) => `${m.job.app === a ? 'a' : m.job.app === b ? 'b' : 'c'}${m.job.tag}`).sort(), [
        'av1',
        'bv1',
        'cv1',
      ]);
      assert.equal(new Set(first.map((m) => m.group)).size, 3, 'one message per group');
      await expectNothing(queue); // every group has its head in flight
      await queue.ack(first.find((m) => m.job.app === b)!);
      const [next] = await receiveN(queue, 1, 30);
      assert.equal(next?.job.app, b);
      assert.equal(next.job.tag, 'v2');
      await expectNothing(queue, 100);
    });

    it('receive(max) returns at most max messages, from distinct groups', async () => {
      const { queue } = await open();
      const apps = [app(), app(), app(), app()];
      for (const a of apps) for (const n of [1, 2]) await send(queue, makeJob({ app: a, n }));
      const got = await queue.receive(3, 30);
      assert.ok(got.length <= 3, `got ${got.length}`);
      assert.equal(new Set(got.map((m) => m.group)).size, got.length);
      const rest = await receiveN(queue, 4 - got.length, 30);
      const all = [...got, ...rest];
      assert.deepEqual(all.map((m) => m.job.app).sort(), [...apps].sort());
      assert.ok(all.every((m) => m.job.tag === 'v1'));
    });

    it('drops a second send with the same dedupId within the window', async () => {
      const { queue } = await open();
      const job = makeJob({ app: app(), n: 1 });
      const first = await send(queue, job);
      assert.equal(first.duplicate, false);
      const again = await queue.send({ ...job, id: 'another-job-id', reason: 'push' }, sendOptionsOf(job));
      assert.deepEqual(again, { messageId: first.messageId, duplicate: true });
      const [m] = await receiveN(queue, 1, 30);
      assert.equal(m?.messageId, first.messageId);
      assert.equal(m.job.id, job.id);
      await queue.ack(m);
      // Still inside the window after the first one is done: still a duplicate.
      assert.equal((await send(queue, job)).duplicate, true);
      await expectNothing(queue);
    });

    it('accepts a dedupId again once the window has passed', async (t) => {
      const f = await open();
      if (!f.passDedupWindow) return t.skip('this queue cannot move past its dedup window quickly');
      const job = makeJob({ app: app(), n: 1 });
      const first = await send(f.queue, job);
      await f.passDedupWindow();
      const second = await send(f.queue, job);
      assert.equal(second.duplicate, false);
      assert.notEqual(second.messageId, first.messageId);
      const got = await receiveN(f.queue, 1, 30);
      await f.queue.ack(got[0]!);
      assert.deepEqual(
        (await receiveN(f.queue, 1, 30)).map((m) => m.messageId),
        [second.messageId],
      );
    });

    it('redelivers a message whose visibility timed out, counting attempts', async () => {
      const { queue } = await open();
      const a = app();
      await send(queue, makeJob({ app: a, n: 1 }));
      await send(queue, makeJob({ app: a, n: 2 }));
      const [r1] = await receiveN(queue, 1, 1);
      assert.equal(r1?.attempts, 1);
      const hiddenAt = Date.now();
      await expectNothing(queue, 500);
      const [r2] = await receiveN(queue, 1, 30);
      assert.ok(Date.now() - hiddenAt >= 900, 'redelivered before the visibility timeout');
      assert.equal(r2?.messageId, r1.messageId);
      assert.equal(r2.job.tag, 'v1', 'the group head comes back, not the next message');
      assert.equal(r2.attempts, 2);
      assert.notEqual(r2.receipt, r1.receipt);
      await queue.ack(r2);
      const [r3] = await receiveN(queue, 1, 30);
      assert.equal(r3?.job.tag, 'v2');
    });

    it('retry makes the message visible again after the delay, blocking its group meanwhile', async () => {
      const { queue } = await open();
      const a = app();
      await send(queue, makeJob({ app: a, n: 1 }));
      await send(queue, makeJob({ app: a, n: 2 }));
      const [r1] = await receiveN(queue, 1, 30);
      await queue.retry(r1!, 0);
      const [r2] = await receiveN(queue, 1, 30, 1000);
      assert.equal(r2?.messageId, r1!.messageId, 'retry(0): visible at once');
      assert.equal(r2.attempts, 2);
      const retriedAt = Date.now();
      await queue.retry(r2, 1);
      await expectNothing(queue, 400);
      const [r3] = await receiveN(queue, 1, 30);
      assert.ok(Date.now() - retriedAt >= 900, 'visible before the retry delay');
      assert.equal(r3?.messageId, r1!.messageId);
      assert.equal(r3.attempts, 3);
    });

    it('extend keeps a message hidden past its first visibility timeout', async () => {
      const { queue } = await open();
      await send(queue, makeJob({ app: app(), n: 1 }));
      const [r1] = await receiveN(queue, 1, 1);
      await sleep(500);
      await queue.extend(r1!, 2);
      const extendedAt = Date.now();
      await expectNothing(queue, 1000); // the first timeout (1 s) passes meanwhile
      const [r2] = await receiveN(queue, 1, 30);
      assert.ok(Date.now() - extendedAt >= 1900, 'visible before the extended timeout');
      assert.equal(r2?.messageId, r1!.messageId);
      assert.equal(r2.attempts, 2);
    });

    it('refuses a receipt that expired and was redelivered', async () => {
      const { queue } = await open();
      await send(queue, makeJob({ app: app(), n: 1 }));
      const [old] = await receiveN(queue, 1, 1);
      const [fresh] = await receiveN(queue, 1, 30, 3000);
      assert.equal(fresh?.messageId, old!.messageId);
      await assert.rejects(queue.ack(old!), StaleReceipt);
      await assert.rejects(queue.extend(old!, 30), StaleReceipt);
      await assert.rejects(queue.retry(old!, 0), StaleReceipt);
      await queue.ack(fresh);
      await expectNothing(queue, 200);
      await assert.rejects(queue.ack(fresh), StaleReceipt, 'a message acked twice');
    });

    it('moves a message to the dead letters after maxAttempts receives; its group goes on', async () => {
      const f = await open();
      const a = app();
      const poison = await send(f.queue, makeJob({ app: a, n: 1 }));
      await send(f.queue, makeJob({ app: a, n: 2 }));
      for (let attempt = 1; attempt <= f.maxAttempts; attempt++) {
        const [m] = await receiveN(f.queue, 1, 30);
        assert.equal(m?.messageId, poison.messageId);
        assert.equal(m.attempts, attempt);
        await f.queue.retry(m, 0);
      }
      const [next] = await receiveN(f.queue, 1, 30);
      assert.equal(next?.job.tag, 'v2');
      assert.equal(next.attempts, 1);
      const dead = await f.listDead();
      assert.deepEqual(
        dead.map((d) => [d.messageId, d.group, d.job.tag, d.attempts]),
        [[poison.messageId, `${a}/prod`, 'v1', f.maxAttempts]],
      );
    });
  });
}

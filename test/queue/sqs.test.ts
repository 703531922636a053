/**
 * The SQS FIFO adapter against a real SQS-compatible server (fauxqs, see test/fixtures/sqs-server.ts):
 * the queue contract unchanged, then what only SQS has — long polling, heartbeats seen by a second
 * consumer, what a send puts on the wire, duplicates across clients, malformed messages, the redrive DLQ.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
  type ReceiveMessageCommandInput,
  SendMessageCommand,
  GetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { createLogger } from '../../lib/log.js';
import { StaleReceipt } from '../../lib/queue/queue.js';
import { startWorker } from '../../lib/worker/worker-loop.js';
import { createSqsQueue, type SqsQueue, type SqsQueueOptions } from '../../lib/queue/sqs.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { startSqsServer, TEST_CREDENTIALS, TEST_REGION, type SqsServer } from '../fixtures/sqs-server.js';
import { queueContract, receiveN } from './contract.js';

let server: SqsServer;
before(async () => {
  server = await startSqsServer();
});
after(() => server.stop());

const open = (pair: { queueUrl: string; dlqUrl?: string }, extra: Partial<SqsQueueOptions> = {}): SqsQueue =>
  createSqsQueue({
    key: testQueueKey(),
    ...pair,
    region: TEST_REGION,
    endpoint: server.endpoint,
    credentials: TEST_CREDENTIALS,
    waitTimeSeconds: 0,
    ...extra,
  });

queueContract('sqs', async () => {
  const pair = await server.createFifoPair({ maxReceiveCount: 3 });
  const queue = open(pair, { maxAttempts: 3 });
  return { queue, maxAttempts: 3, listDead: () => queue.listDead(), close: () => queue.close() };
});

describe('sqs adapter', () => {
  const queues: SqsQueue[] = [];
  const track = (q: SqsQueue) => {
    queues.push(q);
    return q;
  };
  after(() => Promise.all(queues.map((q) => q.close())));
  const raw = (queueUrl: string, extra = {}) =>
    server.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        ...extra,
      }),
    );

  /** Takes everything out of a queue, in order (a FIFO group shows its next message only once its head is gone). */
  const drain = async (queueUrl: string) => {
    const all = [];
    for (;;) {
      const out = await raw(queueUrl, { VisibilityTimeout: 30 });
      if (!out.Messages) return all;
      all.push(...out.Messages);
      for (const m of out.Messages)
        await server.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  };

  it('long polling: an empty receive waits for the first message to arrive', async () => {
    const pair = await server.createFifoPair();
    const queue = track(open(pair, { waitTimeSeconds: 3 }));
    const job = makeJob({ app: 'poll', n: 1 });
    const started = Date.now();
    const receiving = queue.receive(1, 30);
    await sleep(400);
    await queue.send(job, sendOptionsOf(job));
    const got = await receiving;
    const waited = Date.now() - started;
    assert.deepEqual(
      got.map((m) => m.job.id),
      [job.id],
    );
    assert.ok(waited >= 350 && waited < 2500, `receive returned after ${waited} ms`);
  });

  it('a long poll ends early when its signal is aborted (a worker that stops)', async () => {
    const queue = track(open(await server.createFifoPair(), { waitTimeSeconds: 10 }));
    const started = Date.now();
    const got = await queue.receive(5, 30, { signal: AbortSignal.timeout(300) });
    assert.deepEqual(got, []);
    assert.ok(Date.now() - started < 2000, `receive took ${Date.now() - started} ms`);
  });

  it('the worker loop on SQS: one job per group, in order, and a job slower than its visibility timeout runs once', async () => {
    const queue = track(open(await server.createFifoPair()));
    for (let n = 1; n <= 3; n++)
      for (const environment of ['staging', 'prod'])
        await queue.send(
          makeJob({ app: 'loop', environment, n }),
          sendOptionsOf(makeJob({ app: 'loop', environment, n })),
        );
    const runs: string[] = [];
    const busy = new Set<string>();
    const worker = startWorker({
      queue,
      logger: createLogger({ write: () => {} }),
      concurrency: 4,
      visibilitySec: 1, // the worker's heartbeat (every 1/3 s) has to keep the slow job hidden
      idleMs: 20,
      handle: async (job) => {
        assert.ok(!busy.has(job.environment), `two jobs of ${job.environment} at once`);
        busy.add(job.environment);
        await sleep(job.environment === 'prod' && job.tag === 'v2' ? 2500 : 50);
        busy.delete(job.environment);
        runs.push(`${job.environment}:${job.tag}`);
        return { status: 'received' };
      },
    });
    const deadline = Date.now() + 15_000;
    while (runs.length < 6 && Date.now() < deadline) await sleep(50);
    await sleep(1200); // a redelivery of the slow job would show up here
    await worker.stop();
    assert.deepEqual(
      runs.filter((r) => r.startsWith('prod')),
      ['prod:v1', 'prod:v2', 'prod:v3'],
    );
    assert.deepEqual(
      runs.filter((r) => r.startsWith('staging')),
      ['staging:v1', 'staging:v2', 'staging:v3'],
    );
  });

  it('asks SQS for one message per ReceiveMessage, so no receive counts against a message that is not handed out', async () => {
    const pair = await server.createFifoPair();
    const client = new SQSClient({ region: TEST_REGION, endpoint: server.endpoint, credentials: TEST_CREDENTIALS });
    const asked: ReceiveMessageCommandInput[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand') asked.push(args.input as ReceiveMessageCommandInput);
        return next(args);
      },
      { step: 'initialize' },
    );
    const queue = track(open(pair, { client, waitTimeSeconds: 1 }));
    for (const app of ['one1', 'one2', 'one3'])
      for (const n of [1, 2]) await queue.send(makeJob({ app, n }), sendOptionsOf(makeJob({ app, n })));
    const got = await queue.receive(5, 30);
    assert.deepEqual(
      got.map((m) => m.job.tag),
      ['v1', 'v1', 'v1'],
    );
    assert.ok(
      asked.every((i) => i.MaxNumberOfMessages === 1),
      'a receive asked for more than one message',
    );
    assert.equal(asked[0]?.WaitTimeSeconds, 1, 'the first call long-polls');
    assert.ok(
      asked.slice(1).every((i) => i.WaitTimeSeconds === 0),
      'follow-up calls do not wait',
    );
    assert.equal(new Set(asked.map((i) => i.ReceiveRequestAttemptId)).size, asked.length, 'attempt ids are per call');
    await queue.close();
    await client.send(new GetQueueAttributesCommand({ QueueUrl: pair.queueUrl, AttributeNames: ['QueueArn'] })); // close left our client open
    client.destroy();
  });

  it('puts the group, dedup id, job version and the job on the wire', async () => {
    const pair = await server.createFifoPair();
    const queue = track(open(pair));
    const job = makeJob({ app: 'wire', n: 7 });
    const { messageId } = await queue.send(job, sendOptionsOf(job));
    const out = await raw(pair.queueUrl);
    const m = out.Messages?.[0];
    assert.equal(m?.MessageId, messageId);
    assert.equal(m.Attributes?.MessageGroupId, 'wire/prod');
    assert.equal(m.Attributes?.MessageDeduplicationId, `wire/prod/${job.sha}`);
    assert.equal(m.MessageAttributes?.['fjord-job-version']?.StringValue, '1');
    assert.deepEqual(JSON.parse(m.Body!), job);
  });

  it('heartbeat: a job extended past several visibility timeouts stays hidden from a second consumer', async () => {
    const pair = await server.createFifoPair();
    const [worker, other] = [track(open(pair)), track(open(pair))];
    const job = makeJob({ app: 'beat', n: 1 });
    await worker.send(job, sendOptionsOf(job));
    const [held] = await receiveN(worker, 1, 1);
    assert.ok(held);
    const until = Date.now() + 3200; // more than three visibility timeouts of 1 s
    while (Date.now() < until) {
      await worker.extend(held, 1);
      assert.deepEqual(await other.receive(10, 30), [], 'the other consumer got the job while it was being extended');
      await sleep(400);
    }
    await worker.ack(held);
    await sleep(1200);
    assert.deepEqual(await other.receive(10, 30), [], 'an acked job came back');
  });

  it('a receipt SQS no longer honours, from another client, is a StaleReceipt', async () => {
    const pair = await server.createFifoPair();
    const [first, second] = [track(open(pair)), track(open(pair))];
    const job = makeJob({ app: 'stale', n: 1 });
    await first.send(job, sendOptionsOf(job));
    const [old] = await receiveN(first, 1, 1);
    const [fresh] = await receiveN(second, 1, 30, 3000);
    assert.equal(fresh?.messageId, old!.messageId);
    // `second` never saw the old receipt, so SQS itself is asked, and refuses it.
    await assert.rejects(second.extend(old!, 30), StaleReceipt);
    await second.ack(fresh);
  });

  it('duplicates: flagged when this client sent the first, dropped by SQS either way', async () => {
    const pair = await server.createFifoPair();
    const [a, b] = [track(open(pair)), track(open(pair))];
    const job = makeJob({ app: 'dup', n: 1 });
    const sends = await Promise.all([1, 2, 3].map(() => a.send(job, sendOptionsOf(job))));
    assert.equal(new Set(sends.map((s) => s.messageId)).size, 1, 'SQS answers a duplicate with the first MessageId');
    assert.deepEqual(sends.map((s) => s.duplicate).sort(), [false, true, true]);
    // Another process (here another client) cannot tell: SQS says nothing more than the first MessageId.
    const fromB = await b.send({ ...job, id: 'job-from-another-process' }, sendOptionsOf(job));
    assert.deepEqual(fromB, { messageId: sends[0]!.messageId, duplicate: false });
    const got = await receiveN(a, 2, 30, 1500);
    assert.deepEqual(
      got.map((m) => m.job.id),
      [job.id],
      'exactly one message delivered',
    );
  });

  it('moves malformed messages to the DLQ with the reason, logs them, and goes on with the group', async () => {
    const pair = await server.createFifoPair();
    const lines: string[] = [];
    const queue = track(open(pair, { logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) }));
    const put = (body: string, dedup: string, version = '1') =>
      server.client.send(
        new SendMessageCommand({
          QueueUrl: pair.queueUrl,
          MessageBody: body,
          MessageGroupId: 'bad/prod',
          MessageDeduplicationId: dedup,
          // Signed with the queue key: these test what is wrong with the body itself.
          MessageAttributes: {
            'fjord-job-version': { DataType: 'String', StringValue: version },
            'fjord-signature': { DataType: 'String', StringValue: testQueueKey().sign(body) },
          },
        }),
      );
    await put('{not json SECRET-IN-BODY', 'd1');
    await put(JSON.stringify({ ...makeJob({ app: 'bad', n: 1 }), tag: 'bad tag!' }), 'd2');
    await put(JSON.stringify(makeJob({ app: 'bad', n: 2 })), 'd3', '2');
    const good = makeJob({ app: 'bad', n: 3 });
    await queue.send(good, sendOptionsOf(good));
    const got = await receiveN(queue, 1, 30);
    assert.deepEqual(
      got.map((m) => m.job.tag),
      ['v3'],
      'the valid job after the malformed ones in its group',
    );
    await queue.ack(got[0]!);
    const reasons = (await drain(pair.dlqUrl)).map((m) => m.MessageAttributes?.['fjord-dead-reason']?.StringValue);
    assert.equal(reasons.length, 3);
    assert.equal(reasons[0], 'body is not JSON');
    assert.match(reasons[1]!, /^body is not a DeployJob: tag: /);
    assert.equal(reasons[2], 'fjord-job-version "2" is not supported');
    assert.deepEqual(await queue.listDead(), [], 'listDead lists jobs only');
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; reason?: string });
    assert.equal(logged.filter((l) => l.msg === 'sqs message is not a fjord job').length, 3);
    assert.ok(!lines.some((l) => l.includes('SECRET-IN-BODY')), 'a message body was logged');
  });

  it('deletes a malformed message when there is no DLQ', async () => {
    const pair = await server.createFifoPair({ maxReceiveCount: 0 });
    const queue = track(open({ queueUrl: pair.queueUrl }, { logger: createLogger({ write: () => {} }) }));
    await server.client.send(
      new SendMessageCommand({
        QueueUrl: pair.queueUrl,
        MessageBody: '[]',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd',
      }),
    );
    assert.deepEqual(await queue.receive(10, 1), []);
    await sleep(1100);
    assert.equal((await raw(pair.queueUrl)).Messages, undefined, 'the malformed message is still in the queue');
  });

  it('SQS redrive moves a job to the DLQ; listDead peeks at it, with maxAttempts from the RedrivePolicy', async () => {
    const pair = await server.createFifoPair({ maxReceiveCount: 2 });
    const queue = track(open(pair)); // no maxAttempts: read from the queue
    const apps = Array.from({ length: 12 }, (_, i) => `dead${i}`); // more than one ReceiveMessage (10) of dead letters
    for (const app of apps) await queue.send(makeJob({ app, n: 1 }), sendOptionsOf(makeJob({ app, n: 1 })));
    for (let round = 1; round <= 2; round++) {
      const got = await receiveN(queue, apps.length, 30);
      assert.equal(got.length, apps.length);
      assert.ok(got.every((m) => m.attempts === round));
      await Promise.all(got.map((m) => queue.retry(m, 0)));
    }
    assert.deepEqual(await queue.receive(10, 30), [], 'SQS moved them instead of a third delivery');
    const dead = await queue.listDead();
    assert.deepEqual(dead.map((d) => d.group).sort(), apps.map((a) => `${a}/prod`).sort());
    assert.ok(dead.every((d) => d.attempts === 2 && d.job.tag === 'v1'));
    const again = await queue.listDead();
    assert.deepEqual(
      again.map((d) => d.messageId).sort(),
      dead.map((d) => d.messageId).sort(),
      'listing took dead letters away',
    );
    const attrs = await server.client.send(
      new GetQueueAttributesCommand({ QueueUrl: pair.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    assert.equal(attrs.Attributes?.ApproximateNumberOfMessages, '12', 'peeked messages are visible again');
    assert.deepEqual((await queue.listDead(5)).length, 5);
  });
});

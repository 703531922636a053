/**
 * Issue 12, item 1: a queue message is not an order unless a producer holding FJORD_QUEUE_KEY signed it.
 * Forged, unsigned and altered messages on the real parts — the embedded queue's journal on disk, the SQS
 * server (fauxqs) read by the poller and by the Lambda worker — are refused, kept (dead letters / DLQ, with
 * the reason) and never handed to a handler; a seeded fuzz of altered bodies and signatures never passes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { DeployJob } from '../../lib/job.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import { parseSqsMessage } from '../../lib/queue/parse-sqs-message.js';
import { queueKeyFromEnv } from '../../lib/queue/queue-key.js';
import { createSqsQueue } from '../../lib/queue/sqs.js';
import { makeLambdaWorker } from '../../lib/worker/lambda.js';
import { HOSTILE, paths } from '../fixtures/fuzz-cases.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { sqsEvent, sqsRecord } from '../fixtures/lambda-events.js';
import { prng } from '../fixtures/prng.js';
import { startSqsServer, sqsEnv, TEST_CREDENTIALS, TEST_REGION, type SqsServer } from '../fixtures/sqs-server.js';

const OTHER_KEY = queueKeyFromEnv({ FJORD_QUEUE_KEY: 'someone-elses-key-0123456789abcdef0123456789' })!;
const EVIL = 'registry.evil.example/miner';

describe('forged queue messages: embedded queue', () => {
  it('a journal record altered or added without the key goes to the dead letters with the reason, never to a worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-forged-'));
    const jobs = ['a', 'b', 'c'].map((app) => makeJob({ app, n: 1 }));
    let queue = await createLocalQueue({ key: testQueueKey(), dir, fsync: false });
    for (const j of jobs) await queue.send(j, sendOptionsOf(j));
    await queue.close();
    // Someone with write access to the data dir but not the key: changes a's image, adds an unsigned job d.
    const file = join(dir, 'journal.log');
    const text = readFileSync(file, 'utf8');
    const altered = text
      .split('\n')
      .map((line) =>
        line.includes(`"id":"${jobs[0]!.id}"`) ? line.replace(/"image":"[^"]*"/, `"image":"${EVIL}"`) : line,
      );
    writeFileSync(file, altered.join('\n'));
    const forged = makeJob({ app: 'd', n: 1, image: EVIL });
    appendFileSync(
      file,
      JSON.stringify({ op: 'send', id: 'forged-d', group: 'd/prod', dedup: 'd/prod/x', job: forged, at: Date.now() }) +
        '\n',
    );

    queue = await createLocalQueue({ key: testQueueKey(), dir, fsync: false });
    const got = [...(await queue.receive(10, 30)), ...(await queue.receive(10, 30))];
    assert.deepEqual(got.map((m) => m.job.app).sort(), ['b', 'c'], 'only the signed, unchanged jobs are received');
    const dead = queue.listDead();
    assert.deepEqual(dead.map((d) => d.job.app).sort(), ['a', 'd'], 'kept as dead letters, not lost');
    const reasons = Object.fromEntries(dead.map((d) => [d.job.app, d.reason]));
    assert.match(reasons.a ?? '', /^refused: fjord-signature does not match the body/);
    assert.match(reasons.d ?? '', /^refused: unsigned/);
    await queue.close();
  });
});

describe('forged queue messages: SQS', () => {
  let server: SqsServer;
  before(async () => {
    server = await startSqsServer();
  });
  after(() => server.stop());

  /** A raw SendMessage, as anyone holding sqs:SendMessage could make it. */
  const put = (queueUrl: string, job: DeployJob, signature: string | undefined, body = JSON.stringify(job)) =>
    server.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageGroupId: `${job.app}/${job.environment}`,
        MessageDeduplicationId: job.id,
        MessageAttributes: {
          'fjord-job-version': { DataType: 'String', StringValue: '1' },
          ...(signature ? { 'fjord-signature': { DataType: 'String', StringValue: signature } } : {}),
        },
      }),
    );
  /** The three kinds of forgery, one group each. */
  const forgeries = async (queueUrl: string) => {
    const unsigned = makeJob({ app: 'unsigned', n: 1, image: EVIL });
    const otherKey = makeJob({ app: 'otherkey', n: 1, image: EVIL });
    const altered = makeJob({ app: 'altered', n: 1 });
    await put(queueUrl, unsigned, undefined);
    await put(queueUrl, otherKey, OTHER_KEY.sign(JSON.stringify(otherKey)));
    // A real signature of the real job, with the image changed in flight.
    await put(
      queueUrl,
      altered,
      testQueueKey().sign(JSON.stringify(altered)),
      JSON.stringify({ ...altered, image: EVIL }),
    );
  };
  const drain = async (queueUrl: string): Promise<Message[]> => {
    const all: Message[] = [];
    for (;;) {
      const out = await server.client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 30,
          MessageAttributeNames: ['All'],
        }),
      );
      if (!out.Messages) return all;
      all.push(...out.Messages);
      for (const m of out.Messages)
        await server.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  };
  const deadReasons = async (dlqUrl: string) =>
    Object.fromEntries(
      (await drain(dlqUrl)).map((m) => [
        JSON.parse(m.Body!).app ?? '?',
        m.MessageAttributes?.['fjord-dead-reason']?.StringValue,
      ]),
    );
  const expectReasons = (reasons: Record<string, string | undefined>) => {
    assert.deepEqual(Object.keys(reasons).sort(), ['altered', 'otherkey', 'unsigned']);
    assert.equal(reasons.unsigned, 'unsigned: no fjord-signature');
    assert.match(reasons.otherkey!, /^fjord-signature does not match the body/);
    assert.match(reasons.altered!, /^fjord-signature does not match the body/);
  };

  it('the poller (fjord worker) moves unsigned, foreign-key and altered messages to the DLQ with the reason and receives only the signed job', async () => {
    const pair = await server.createFifoPair();
    const queue = createSqsQueue({
      key: testQueueKey(),
      ...pair,
      region: TEST_REGION,
      endpoint: server.endpoint,
      credentials: TEST_CREDENTIALS,
      waitTimeSeconds: 0,
      logger: silentLogger,
    });
    await forgeries(pair.queueUrl);
    const good = makeJob({ app: 'good', n: 1 });
    await queue.send(good, sendOptionsOf(good));
    const got = [...(await queue.receive(10, 30)), ...(await queue.receive(10, 30))];
    assert.deepEqual(
      got.map((m) => m.job.app),
      ['good'],
    );
    await queue.ack(got[0]!);
    expectReasons(await deadReasons(pair.dlqUrl));
    await queue.close();
  });

  it('the Lambda worker never runs a forged record: moved to the DLQ with FJORD_SQS_DLQ_URL, reported (kept in the queue) without', async () => {
    for (const withDlq of [true, false]) {
      const pair = await server.createFifoPair({ maxReceiveCount: 5 });
      await forgeries(pair.queueUrl);
      const messages =
        (
          await server.client.send(
            new ReceiveMessageCommand({
              QueueUrl: pair.queueUrl,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 60,
              MessageSystemAttributeNames: ['All'],
              MessageAttributeNames: ['All'],
            }),
          )
        ).Messages ?? [];
      assert.equal(messages.length, 3);
      const ran: string[] = [];
      const lines: string[] = [];
      const env = { ...sqsEnv(server, pair.queueUrl), ...(withDlq ? { FJORD_SQS_DLQ_URL: pair.dlqUrl } : {}) };
      const worker = makeLambdaWorker({
        env,
        logger: createLogger({ write: (l) => lines.push(l) }),
        handle: async (job) => {
          ran.push(job.app);
          return { status: 'deployed' };
        },
      });
      const answer = await worker(sqsEvent(messages.map((m) => sqsRecord(m))));
      assert.deepEqual(ran, [], 'no forged job reached the handler');
      if (withDlq) {
        assert.deepEqual(answer.batchItemFailures, [], 'moved aside, so they do not block their groups');
        expectReasons(await deadReasons(pair.dlqUrl));
      } else {
        assert.equal(answer.batchItemFailures.length, 3, 'reported: the redrive policy keeps them');
        const attrs = await server.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: pair.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        const left =
          Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0) +
          Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
        assert.equal(left, 3, 'nothing deleted');
      }
      assert.ok(!lines.some((l) => l.includes('test-queue-key-')), 'the queue key is never logged');
    }
  });
});

describe('forged queue messages: fuzz', () => {
  it('2,000 seeded alterations of a signed message (body fields, bytes, signature) are all refused before parsing', () => {
    const rng = prng(Number(process.env.FJORD_FUZZ_SEED ?? 20261203));
    const key = testQueueKey();
    const job = makeJob({ app: 'api', environment: 'prod', n: 9 });
    const body = JSON.stringify(job);
    const signature = key.sign(body);
    const mutations: Array<() => { body: string; signature: string | undefined }> = [
      () => {
        const copy = structuredClone(job) as any;
        const target = rng.pick(paths(copy));
        const parent = target.slice(0, -1).reduce((o: any, k) => o[k], copy);
        parent[target.at(-1)!] = rng.pick([...HOSTILE, EVIL, 'manual', 'rollback', 0, null]);
        return { body: JSON.stringify(copy), signature };
      },
      () => {
        const bytes = Buffer.from(body);
        const at = rng.int(bytes.length);
        bytes[at] = bytes[at]! ^ (1 << rng.int(7));
        return { body: bytes.toString('latin1'), signature };
      },
      () => ({ body: body + rng.pick([' ', '\n', '{}', ',']), signature }),
      () => ({ body, signature: signature.slice(0, rng.int(signature.length)) }),
      () => ({
        body,
        signature: rng.pick([
          undefined,
          '',
          'v1=',
          `v2=${signature.slice(3)}`,
          signature.toUpperCase(),
          OTHER_KEY.sign(body),
        ]),
      }),
      () => {
        const forged = JSON.stringify({ ...job, image: EVIL, reason: rng.pick(['manual', 'rollback', 'merge']) });
        return { body: forged, signature: rng.pick([signature, OTHER_KEY.sign(forged)]) };
      },
    ];
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const m = rng.pick(mutations)();
      if (m.body === body && m.signature === signature) continue; // a mutation that changed nothing
      const parsed = parseSqsMessage(
        { messageId: `m${i}`, receipt: 'r', body: m.body, group: 'api/prod', signature: m.signature },
        key,
      );
      assert.equal(parsed.ok, false, `case ${i}: accepted ${JSON.stringify(m).slice(0, 300)}`);
      if (!parsed.ok)
        assert.match(
          parsed.malformed.reason,
          /signature|unsigned/,
          `case ${i}: refused for the signature, before parsing`,
        );
      refused++;
    }
    assert.ok(refused > 1900, `only ${refused} cases differed from the original`);
    assert.equal(
      parseSqsMessage({ messageId: 'ok', receipt: 'r', body, group: 'api/prod', signature }, key).ok,
      true,
      'the original passes',
    );
  });
});

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { DeployJob } from '../../lib/job.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { sendJobInput } from '../../lib/queue/sqs-requests.js';
import { RetryableError } from '../../lib/worker/outcome.js';
import type { JobHandler } from '../../lib/worker/worker-loop.js';
import { makeLambdaWorker } from '../../lib/worker/lambda.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { sqsEvent, sqsRecord } from '../fixtures/lambda-events.js';
import { startSqsServer, type FifoPair, type SqsServer, sqsEnv } from '../fixtures/sqs-server.js';

// The worker's Lambda handler on SQS event batches built from messages of a real SQS-compatible server:
// which records come back in batchItemFailures, and the heartbeat on the record's receipt handle.
describe('Lambda worker (SQS event → batchItemFailures)', () => {
  let sqs: SqsServer;
  let pair: FifoPair;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    sqs = await startSqsServer();
    pair = await sqs.createFifoPair();
    env = {
      ...sqsEnv(sqs, pair.queueUrl),
    };
  });
  after(() => sqs.stop());

  const sendJob = async (job: DeployJob): Promise<Message> => {
    const input = sendJobInput(
      pair.queueUrl,
      job,
      sendOptionsOf(job).group,
      sendOptionsOf(job).dedupId,
      testQueueKey(),
    );
    const out = await sqs.client.send(new SendMessageCommand(input));
    return {
      MessageId: out.MessageId,
      Body: input.MessageBody,
      Attributes: { MessageGroupId: input.MessageGroupId!, MessageDeduplicationId: input.MessageDeduplicationId! },
      MessageAttributes: input.MessageAttributes as Message['MessageAttributes'],
    };
  };
  const receive = async (visibility: number): Promise<Message[]> =>
    (
      await sqs.client.send(
        new ReceiveMessageCommand({
          QueueUrl: pair.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: visibility,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      )
    ).Messages ?? [];

  it('reports only the retried job and the later jobs of its group; a failed outcome is done', async () => {
    const a = [1, 2, 3].map((n) => makeJob({ app: 'api', environment: 'prod', n }));
    const b = makeJob({ app: 'web', environment: 'prod', n: 1 });
    const c = makeJob({ app: 'jobs', environment: 'prod', n: 1 });
    const sent = new Map<string, Message>();
    for (const job of [a[0]!, b, a[1]!, c, a[2]!]) sent.set(job.id, await sendJob(job));
    // What SQS hands out now (one message per group is in flight at a time) gets a real receipt handle;
    // the later messages of group api/prod are in the batch as Lambda would put them there, in order.
    for (const m of await receive(60)) sent.set(JSON.parse(m.Body!).id, m);
    const records = [a[0]!, b, a[1]!, c, a[2]!].map((job) => sqsRecord(sent.get(job.id)!));

    const ran: string[] = [];
    const handle: JobHandler = async (job) => {
      ran.push(job.id);
      if (job.id === a[1]!.id) throw new RetryableError('registry unavailable (test)');
      if (job.id === b.id) return { status: 'failed', detail: 'rolled back (test)' };
      if (job.id === c.id) throw new Error('handler crashed (test)');
      return { status: 'deployed' };
    };
    const worker = makeLambdaWorker({ env, logger: silentLogger, handle });
    const answer = await worker(sqsEvent(records));

    assert.deepEqual(
      answer.batchItemFailures.map((f) => f.itemIdentifier),
      [records[2]!.messageId, records[3]!.messageId, records[4]!.messageId],
    );
    assert.deepEqual(
      ran.filter((id) => id.includes('api')),
      [a[0]!.id, a[1]!.id],
      'api/prod ran in order and stopped at its failure',
    );
    assert.ok(ran.includes(b.id) && ran.includes(c.id));
  });

  it('an all-good batch answers no failures; a malformed record is reported', async () => {
    const job = makeJob({ app: 'good', environment: 'prod', n: 7 });
    const m = await sendJob(job);
    const bad = sqsRecord({
      ...m,
      MessageId: 'malformed-1',
      Body: '{"not":"a job"}',
      Attributes: { MessageGroupId: 'other/prod' },
    });
    const worker = makeLambdaWorker({ env, logger: silentLogger, handle: async () => ({ status: 'noop' }) });
    assert.deepEqual(await worker(sqsEvent([sqsRecord(m)])), { batchItemFailures: [] });
    assert.deepEqual(await worker(sqsEvent([sqsRecord(m), bad])), {
      batchItemFailures: [{ itemIdentifier: 'malformed-1' }],
    });
  });

  it('the heartbeat keeps the record hidden past its visibility timeout', async () => {
    const beating = makeJob({ app: 'beat', environment: 'prod', n: 1 });
    const still = makeJob({ app: 'still', environment: 'prod', n: 1 });
    await sendJob(beating);
    await sendJob(still);
    const got = new Map((await receive(1)).map((m) => [JSON.parse(m.Body!).app as string, m]));
    assert.ok(got.has('beat') && got.has('still'));
    let seenAgain: string[] = [];
    const worker = makeLambdaWorker({
      env,
      logger: silentLogger,
      handle: async (job, ctx) => {
        if (job.app === 'beat') await ctx.heartbeat(30);
        await sleep(1_600);
        seenAgain = (await receive(30)).map((m) => JSON.parse(m.Body!).app);
        return { status: 'deployed' };
      },
    });
    await worker(sqsEvent([sqsRecord(got.get('beat')!)]));
    // 'still' had no heartbeat: visible again after 1 s (the test's control); 'beat' stayed hidden.
    assert.ok(seenAgain.includes('still'), `expected the un-extended message back, saw ${JSON.stringify(seenAgain)}`);
    assert.ok(!seenAgain.includes('beat'), 'the extended message was delivered again');
  });

  it('wires the deploy handler from FJORD_CONFIG_YAML: a job for an environment fjord.yaml lacks is failed (final), not retried', async () => {
    const yaml = `sources: { gitlab: { webhookSecretEnv: S } }
manifest: { backend: git, repository: /nonexistent/manifests.git }
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    environments:
      prod: { manifest: { file: api.yaml, path: image.tag } }
`;
    const job = makeJob({ app: 'api', environment: 'gone', n: 1 });
    const m = await sendJob(job);
    const lines: any[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line)) });
    const worker = makeLambdaWorker({
      env: { ...env, FJORD_CONFIG_YAML: yaml, FJORD_DATA_DIR: '/tmp/fjord-lambda-test' },
      logger,
    });
    assert.deepEqual(await worker(sqsEvent([sqsRecord(m)])), { batchItemFailures: [] });
    const done = lines.find((l) => l.msg === 'job done');
    assert.equal(done?.status, 'failed', JSON.stringify(lines));
    assert.match(done.detail, /no environment api\/gone/);
  });

  it('a retried record is visible again after its back-off, not after the whole visibility timeout', async () => {
    const job = makeJob({ app: 'flaky', environment: 'prod', n: 1 });
    await sendJob(job);
    const [m] = (await receive(600)).filter((x) => JSON.parse(x.Body!).app === 'flaky');
    assert.ok(m);
    const worker = makeLambdaWorker({
      env,
      logger: silentLogger,
      handle: async () => {
        throw new RetryableError('registry down (test)', 1);
      },
    });
    assert.deepEqual(await worker(sqsEvent([sqsRecord(m)])), { batchItemFailures: [{ itemIdentifier: m.MessageId }] });
    // Other tests' retried records come back too (their own back-off): only this group is looked at.
    const flaky = async () => (await receive(600)).map((x) => JSON.parse(x.Body!).app).filter((app) => app === 'flaky');
    assert.deepEqual(await flaky(), [], 'visible before its back-off');
    await sleep(1_300);
    assert.deepEqual(await flaky(), ['flaky']);
  });
});

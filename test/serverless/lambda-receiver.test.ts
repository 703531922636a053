import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { stringify } from 'yaml';
import { deployJobSchema } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { makeLambdaReceiver } from '../../lib/receiver/lambda.js';
import { functionUrlEvent, lambdaContext } from '../fixtures/lambda-events.js';
import { gitlabHeaders, payload, testConfig, testEnv } from '../fixtures/receiver.js';
import { startSqsServer, type FifoPair, type SqsServer, sqsEnv } from '../fixtures/sqs-server.js';

// The receiver through hono/aws-lambda with function URL events (payload 2.0) into a real SQS-compatible
// server: the queue comes from the environment, as in the deployed function.
describe('Lambda receiver (function URL → SQS FIFO)', () => {
  let sqs: SqsServer;
  let pair: FifoPair;
  let env: NodeJS.ProcessEnv;
  const merge = JSON.stringify(payload('gitlab-merge-request'));

  before(async () => {
    sqs = await startSqsServer();
    pair = await sqs.createFifoPair();
    env = {
      ...testEnv,
      FJORD_CONFIG_YAML: stringify(testConfig()),
      ...sqsEnv(sqs, pair.queueUrl),
    };
  });
  after(() => sqs.stop());

  const drain = async () => {
    const out = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: pair.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['MessageGroupId'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    // Deleted at once: an undeleted message would hold back the next one of its group (FIFO).
    for (const m of messages)
      await sqs.client.send(new DeleteMessageCommand({ QueueUrl: pair.queueUrl, ReceiptHandle: m.ReceiptHandle }));
    return messages;
  };

  for (const base64 of [false, true]) {
    it(`a GitLab merge event (${base64 ? 'base64' : 'plain'} body) lands as a job message`, async () => {
      const handler = makeLambdaReceiver({ env, logger: silentLogger });
      const sha = (base64 ? 'b' : 'a').repeat(40);
      const body = JSON.parse(merge);
      body.object_attributes.merge_commit_sha = sha;
      const answer = await handler(
        functionUrlEvent('/hooks/gitlab', gitlabHeaders('Merge Request Hook'), JSON.stringify(body), { base64 }) as any,
        lambdaContext() as any,
      );
      assert.equal(answer.statusCode, 202, answer.body);
      const queued = JSON.parse(answer.body).queued;
      assert.equal(queued.length, 1);

      const [message, ...rest] = await drain();
      assert.equal(rest.length, 0);
      assert.ok(message, 'no message in the queue');
      const job = deployJobSchema.parse(JSON.parse(message.Body!));
      assert.equal(job.app, 'api');
      assert.equal(job.environment, 'staging');
      assert.equal(job.sha, sha);
      assert.equal(job.tag, sha.slice(0, 8));
      assert.equal(job.id, queued[0].id ?? job.id);
      assert.equal(message.Attributes?.MessageGroupId, 'api/staging');
      assert.ok(
        message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0,
        'job version attribute missing',
      );
    });
  }

  it('a wrong token is 401 and nothing is sent', async () => {
    const handler = makeLambdaReceiver({ env, logger: silentLogger });
    const answer = await handler(
      functionUrlEvent('/hooks/gitlab', gitlabHeaders('Merge Request Hook', 'not-the-token'), merge) as any,
      lambdaContext() as any,
    );
    assert.equal(answer.statusCode, 401);
    assert.deepEqual(await drain(), []);
  });

  it('functions/lambda-receiver.ts reads its config and queue from process.env at import', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, env, { FJORD_LOG_LEVEL: 'error' });
    try {
      const { handler } = await import('../../functions/lambda-receiver.js');
      const answer = await handler(
        functionUrlEvent('/healthz', {}, '', { method: 'GET' }) as any,
        lambdaContext() as any,
      );
      assert.equal(answer.statusCode, 200);
      assert.deepEqual(JSON.parse(answer.body), { ok: true });
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  });
});

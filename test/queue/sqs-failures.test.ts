/**
 * SQS failures become fjord's named errors: a server that is down, answers 5xx or throttles →
 * `QueueUnavailable` (503, so the receiver asks GitLab to send again); a missing queue → `SqsRequestRefused`;
 * receipts SQS refuses → `StaleReceipt`. The 5xx/throttling servers are stand-ins that answer every request
 * with one fixed AWS JSON-protocol error; the rest runs against the real local SQS server.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MessageNotInflight, SQSServiceException } from '@aws-sdk/client-sqs';
import { QueueUnavailable } from '../../lib/errors.js';
import { StaleReceipt } from '../../lib/queue/queue.js';
import { createSqsQueue, type SqsQueueOptions } from '../../lib/queue/sqs.js';
import { convertSqsError, SqsRequestRefused } from '../../lib/queue/sqs-errors.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { startSqsServer, TEST_CREDENTIALS, TEST_REGION, type SqsServer } from '../fixtures/sqs-server.js';
import { receiveN } from './contract.js';

const job = makeJob({ app: 'down', n: 1 });
const options = (endpoint: string, queueUrl = `${endpoint}/000000000000/fjord.fifo`): SqsQueueOptions => ({
  key: testQueueKey(),
  queueUrl,
  dlqUrl: queueUrl.replace('.fifo', '-dlq.fifo'),
  region: TEST_REGION,
  endpoint,
  credentials: TEST_CREDENTIALS,
  waitTimeSeconds: 0,
  maxAttempts: 3,
});

/** A stand-in SQS endpoint that answers every request with `status` and an AWS JSON error of `type`. */
async function failingServer(
  status: number,
  type: string,
): Promise<{ endpoint: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume().on('end', () => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${type};Receiver` });
      res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message: 'stand-in failure' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('sqs failures', () => {
  let sqs: SqsServer;
  before(async () => {
    sqs = await startSqsServer();
  });
  after(() => sqs.stop());

  it('a server that went down: every operation is QueueUnavailable (503)', async () => {
    const own = await startSqsServer();
    const pair = await own.createFifoPair();
    const queue = createSqsQueue({ ...options(own.endpoint), ...pair });
    await queue.send(job, sendOptionsOf(job));
    const [held] = await receiveN(queue, 1, 30);
    await own.stop();
    for (const [name, op] of [
      ['send', () => queue.send(job, sendOptionsOf(job))],
      ['receive', () => queue.receive(1, 30)],
      ['ack', () => queue.ack(held!)],
      ['extend', () => queue.extend(held!, 30)],
      ['listDead', () => queue.listDead()],
    ] as const) {
      await assert.rejects(op(), (err: unknown) => err instanceof QueueUnavailable && err.status === 503, name);
    }
    await queue.close();
  });

  it('5xx and throttling answers are QueueUnavailable, after the SDK retried', async () => {
    for (const [status, type] of [
      [500, 'InternalError'],
      [503, 'ServiceUnavailable'],
      [400, 'ThrottlingException'],
    ] as const) {
      const stub = await failingServer(status, type);
      const queue = createSqsQueue(options(stub.endpoint));
      await assert.rejects(
        queue.send(job, sendOptionsOf(job)),
        (err: unknown) => err instanceof QueueUnavailable && err.message.includes(type),
        type,
      );
      assert.equal(stub.requests(), 3, `${type}: requests made`);
      await queue.close();
      await stub.close();
    }
  });

  it('a queue that does not exist is SqsRequestRefused, not an outage', async () => {
    const queue = createSqsQueue(options(sqs.endpoint, `${sqs.endpoint}/000000000000/no-such-queue.fifo`));
    await assert.rejects(
      queue.send(job, sendOptionsOf(job)),
      (err: unknown) => err instanceof SqsRequestRefused && err.status === 500,
    );
    await assert.rejects(queue.receive(1, 30), SqsRequestRefused);
    await queue.close();
  });

  it('a closed queue refuses every call', async () => {
    const queue = createSqsQueue({ ...options(sqs.endpoint), ...(await sqs.createFifoPair()) });
    await queue.close();
    await assert.rejects(queue.send(job, sendOptionsOf(job)), QueueUnavailable);
    await assert.rejects(queue.receive(1, 30), QueueUnavailable);
  });
});

describe('convertSqsError', () => {
  const meta = (httpStatusCode: number) => ({ httpStatusCode, attempts: 1, totalRetryDelay: 0 });
  const sdkError = (name: string, message: string, status = 400) =>
    new SQSServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata: meta(status) });

  it('receipts SQS refuses are StaleReceipt', () => {
    // The texts SQS FIFO answers with (DeleteMessage / ChangeMessageVisibility on an expired receipt).
    const expired = sdkError(
      'InvalidParameterValue',
      'Value AQEB… for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.',
    );
    const notInflight = new MessageNotInflight({
      message: 'Message does not exist or is not available for visibility timeout change.',
      $metadata: meta(400),
    });
    for (const err of [
      expired,
      notInflight,
      sdkError('ReceiptHandleIsInvalid', 'The input receipt handle is invalid.', 404),
    ]) {
      const out = convertSqsError(err, 'DeleteMessage', 'm-1');
      assert.ok(out instanceof StaleReceipt, err.name);
      assert.match(out.message, /m-1/);
    }
  });

  it('other invalid parameters are set-up errors, not stale receipts', () => {
    const err = sdkError(
      'InvalidParameterValue',
      'Value 50000 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.',
    );
    assert.ok(convertSqsError(err, 'ChangeMessageVisibility', 'm-1') instanceof SqsRequestRefused);
    assert.ok(
      convertSqsError(sdkError('AccessDenied', 'not authorized', 403), 'SendMessage') instanceof SqsRequestRefused,
    );
  });

  it('no answer, 5xx and throttling are QueueUnavailable; a missing credential chain is not', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
      $metadata: { attempts: 3 },
    });
    assert.ok(convertSqsError(refused, 'SendMessage') instanceof QueueUnavailable);
    assert.ok(convertSqsError(sdkError('InternalError', 'boom', 500), 'SendMessage') instanceof QueueUnavailable);
    assert.ok(convertSqsError(sdkError('RequestThrottled', 'slow down'), 'SendMessage') instanceof QueueUnavailable);
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    assert.ok(convertSqsError(noCredentials, 'SendMessage') instanceof SqsRequestRefused);
  });
});

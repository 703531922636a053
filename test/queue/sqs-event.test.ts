/**
 * Lambda SQS events → fjord messages. The event shape is the FIFO example of the AWS Lambda docs ("Using
 * Lambda with Amazon SQS"), with fjord jobs as bodies; the last test feeds a record built from what the
 * real local SQS server delivered back into the adapter (a Lambda worker extending and deleting with the
 * receipt of its event).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsQueue } from '../../lib/queue/sqs.js';
import { receiveBatchFromSqsEvent, type SqsEvent, type SqsEventRecord } from '../../lib/queue/sqs-event.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { startSqsServer, TEST_CREDENTIALS, TEST_REGION, type SqsServer } from '../fixtures/sqs-server.js';

const job = makeJob({ app: 'api', environment: 'production', n: 4 });

/** A record as Lambda delivers it from a FIFO queue (AWS docs example, fjord's body and attribute). */
function record(over: Partial<SqsEventRecord> & { body?: string } = {}): SqsEventRecord {
  const body = over.body ?? JSON.stringify(job);
  const attribute = (stringValue: string) =>
    ({
      stringValue,
      stringListValues: [],
      binaryListValues: [],
      dataType: 'String',
    }) as SqsEventRecord['messageAttributes'][string];
  return {
    messageId: '11d6ee51-4cc7-4302-9e22-7cd8afdaadf5',
    receiptHandle: 'AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...',
    body: JSON.stringify(job),
    attributes: {
      ApproximateReceiveCount: '2',
      SentTimestamp: '1573251510774',
      SequenceNumber: '18849496460467696128',
      MessageGroupId: 'api/production',
      SenderId: 'AIDAIO23YVJENQZJOL4VO',
      MessageDeduplicationId: `api/production/${job.sha}`,
      ApproximateFirstReceiveTimestamp: '1573251510774',
    },
    messageAttributes: { 'fjord-job-version': attribute('1'), 'fjord-signature': attribute(testQueueKey().sign(body)) },
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-2:123456789012:fjord-jobs.fifo',
    awsRegion: 'us-east-2',
    ...over,
  };
}

describe('receiveBatchFromSqsEvent', () => {
  it('turns each record into a Received, in the order of the batch', () => {
    const second = makeJob({ app: 'api', environment: 'staging', n: 5 });
    const event: SqsEvent = {
      Records: [
        record(),
        record({
          messageId: 'm-2',
          receiptHandle: 'r-2',
          body: JSON.stringify(second),
          attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'api/staging' },
        }),
      ],
    };
    assert.deepEqual(receiveBatchFromSqsEvent(event, testQueueKey()), [
      {
        ok: true,
        message: {
          messageId: '11d6ee51-4cc7-4302-9e22-7cd8afdaadf5',
          receipt: 'AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...',
          group: 'api/production',
          job,
          attempts: 2,
        },
      },
      { ok: true, message: { messageId: 'm-2', receipt: 'r-2', group: 'api/staging', job: second, attempts: 1 } },
    ]);
  });

  it('names what is wrong with records that are not jobs, without failing the batch', () => {
    const items = receiveBatchFromSqsEvent(
      {
        Records: [
          record({ messageId: 'not-json', body: 'hello' }),
          record({ messageId: 'bad-tag', body: JSON.stringify({ ...job, tag: '../etc' }) }),
          record({ messageId: 'unknown-key', body: JSON.stringify({ ...job, extra: 1 }) }),
          record({
            messageId: 'v2',
            messageAttributes: { 'fjord-job-version': { dataType: 'String', stringValue: '2' } },
          }),
          record({
            messageId: 'no-version',
            messageAttributes: { 'fjord-signature': record().messageAttributes['fjord-signature']! },
          }),
        ],
      },
      testQueueKey(),
    );
    const summary = items.map((i) =>
      i.ok ? `${i.message.messageId}: ok` : `${i.malformed.messageId}: ${i.malformed.reason}`,
    );
    assert.equal(summary[0], 'not-json: body is not JSON');
    assert.match(summary[1]!, /^bad-tag: body is not a DeployJob: tag: /);
    assert.equal(summary[2], 'unknown-key: body is not a DeployJob: extra: unknown key');
    assert.equal(summary[3], 'v2: fjord-job-version "2" is not supported');
    assert.equal(summary[4], 'no-version: ok', 'a signed body with v: 1 is enough');
  });

  it('falls back to the job for the group, and to 1 attempt, when the attributes lack them', () => {
    const [item] = receiveBatchFromSqsEvent(
      { Records: [record({ attributes: { ApproximateReceiveCount: '' } })] },
      testQueueKey(),
    );
    assert.ok(item?.ok);
    assert.equal(item.message.group, 'api/production');
    assert.equal(item.message.attempts, 1);
  });
});

describe('a Lambda record on the real local SQS server', () => {
  let server: SqsServer;
  before(async () => {
    server = await startSqsServer();
  });
  after(() => server.stop());

  it('its receipt extends and acks the message through the adapter', async () => {
    const pair = await server.createFifoPair();
    const queue = createSqsQueue({
      key: testQueueKey(),
      ...pair,
      region: TEST_REGION,
      endpoint: server.endpoint,
      credentials: TEST_CREDENTIALS,
      waitTimeSeconds: 0,
    });
    await queue.send(job, sendOptionsOf(job));
    // What the event source mapping would have received for the function.
    const out = await server.client.send(
      new ReceiveMessageCommand({
        QueueUrl: pair.queueUrl,
        VisibilityTimeout: 30,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const m = out.Messages![0]!;
    const event: SqsEvent = {
      Records: [
        record({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body!,
          attributes: {
            ApproximateReceiveCount: m.Attributes!.ApproximateReceiveCount!,
            MessageGroupId: m.Attributes!.MessageGroupId,
          },
          messageAttributes: Object.fromEntries(
            Object.entries(m.MessageAttributes!).map(([k, v]) => [
              k,
              { dataType: 'String', stringValue: v.StringValue },
            ]),
          ),
        }),
      ],
    };
    const [item] = receiveBatchFromSqsEvent(event, testQueueKey());
    assert.ok(item?.ok);
    assert.deepEqual(item.message.job, job);
    await queue.extend(item.message, 60);
    await queue.ack(item.message);
    const counts = await server.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: pair.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    assert.deepEqual(
      counts.Attributes,
      { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' },
      'the message is gone',
    );
    await queue.close();
  });
});

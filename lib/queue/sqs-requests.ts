/**
 * The SQS requests fjord makes, as data: pure builders of the SDK command inputs, so the adapter, the DLQ
 * peek and the quarantine ask for the same attributes and write the same message attributes.
 */
import type { ReceiveMessageCommandInput, SendMessageCommandInput } from '@aws-sdk/client-sqs';
import type { DeployJob } from '../job.js';
import { HELD_ATTRIBUTE, JOB_VERSION, JOB_VERSION_ATTRIBUTE } from './parse-sqs-message.js';
import { SIGNATURE_ATTRIBUTE, type QueueKey } from './queue-key.js';

export const MAX_VISIBILITY_SEC = 43_200; // SQS: 12 hours

/** Whole seconds within what SQS accepts for a visibility timeout. */
export function clampVisibility(sec: number): number {
  return Math.min(MAX_VISIBILITY_SEC, Math.max(0, Math.round(sec)));
}

/** SendMessage of a job: its group, its dedup id (SQS's 5-minute window), the job version and the body's signature. */
export function sendJobInput(
  queueUrl: string,
  job: DeployJob,
  group: string,
  dedupId: string,
  key: QueueKey,
): SendMessageCommandInput {
  const body = JSON.stringify(job);
  return {
    QueueUrl: queueUrl,
    MessageBody: body,
    MessageGroupId: group,
    MessageDeduplicationId: dedupId,
    MessageAttributes: {
      [JOB_VERSION_ATTRIBUTE]: { DataType: 'String', StringValue: JOB_VERSION },
      [SIGNATURE_ATTRIBUTE]: { DataType: 'String', StringValue: key.sign(body) },
    },
  };
}

/**
 * SendMessage of a fresh copy of a received job to the back of its group (a new message: SQS counts its
 * receives from zero again). `held`: a gate still holds it. The dedup id is the original's message id, so
 * a redelivered original sends no second copy.
 */
export function requeueJobInput(
  queueUrl: string,
  message: { messageId: string; group: string; job: DeployJob },
  held: boolean,
  key: QueueKey,
): SendMessageCommandInput {
  const input = sendJobInput(
    queueUrl,
    message.job,
    message.group,
    `${held ? 'held' : 'released'}-${message.messageId}`,
    key,
  );
  return held
    ? {
        ...input,
        MessageAttributes: { ...input.MessageAttributes, [HELD_ATTRIBUTE]: { DataType: 'String', StringValue: '1' } },
      }
    : input;
}

/** ReceiveMessage with what `parseSqsMessage` reads: receive count, group, job version, signature, held mark. */
export function receiveInput(
  queueUrl: string,
  max: number,
  visibilitySec: number,
  waitSec: number,
): ReceiveMessageCommandInput {
  return {
    QueueUrl: queueUrl,
    MaxNumberOfMessages: max,
    VisibilityTimeout: clampVisibility(visibilitySec),
    WaitTimeSeconds: waitSec,
    MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
    AttributeNames: ['All'], // the deprecated name, for servers that read only it
    MessageAttributeNames: [JOB_VERSION_ATTRIBUTE, SIGNATURE_ATTRIBUTE, HELD_ATTRIBUTE],
  };
}

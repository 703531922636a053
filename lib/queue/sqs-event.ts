/**
 * Lambda's SQS event (the event source mapping's batch) → fjord messages. Pure: the Lambda worker turns
 * each item into a `batchItemFailures` entry or not. Shape per the AWS Lambda docs ("Using Lambda with
 * Amazon SQS", FIFO example) and Powertools' `SqsEvent` schema; declared here so fjord needs no
 * `@types/aws-lambda`.
 */
import { parseSqsMessage, HELD_ATTRIBUTE, JOB_VERSION_ATTRIBUTE, type MalformedMessage } from './parse-sqs-message.js';
import type { Received } from './queue.js';
import { SIGNATURE_ATTRIBUTE, type QueueKey } from './queue-key.js';

export interface SqsEventRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: {
    ApproximateReceiveCount: string;
    MessageGroupId?: string;
    [name: string]: string | undefined;
  };
  messageAttributes: Record<string, { dataType: string; stringValue?: string; binaryValue?: string }>;
  eventSource: string;
  eventSourceARN: string;
  [key: string]: unknown;
}

export interface SqsEvent {
  Records: SqsEventRecord[];
}

/** One record: a job to run, or a message that is not one (log it and treat it as done or dead). */
export type SqsEventItem = { ok: true; message: Received } | { ok: false; malformed: MalformedMessage };

/** Every record of the batch, in the event's order (for a FIFO queue: each group's messages in order). */
export function receiveBatchFromSqsEvent(event: SqsEvent, key: QueueKey): SqsEventItem[] {
  return event.Records.map((record) =>
    parseSqsMessage(
      {
        messageId: record.messageId,
        receipt: record.receiptHandle,
        body: record.body,
        group: record.attributes.MessageGroupId,
        receiveCount: record.attributes.ApproximateReceiveCount,
        jobVersion: record.messageAttributes?.[JOB_VERSION_ATTRIBUTE]?.stringValue,
        signature: record.messageAttributes?.[SIGNATURE_ATTRIBUTE]?.stringValue,
        held: record.messageAttributes?.[HELD_ATTRIBUTE]?.stringValue,
      },
      key,
    ),
  );
}

/**
 * A message that is not a job fjord can run (unsigned or forged, not JSON, not a `DeployJob`, another job version) must not
 * block its group until SQS's redrive gives up on it: it is copied to the dead-letter queue, with the
 * reason as a message attribute, and deleted. Without a DLQ it is deleted. Failures are logged, never
 * thrown: the message then stays, and SQS's redrive policy moves it after `maxReceiveCount` receives.
 */
import { DeleteMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../log.js';
import type { MalformedMessage } from './parse-sqs-message.js';

export const DEAD_REASON_ATTRIBUTE = 'fjord-dead-reason';

export interface QuarantineOptions {
  client: SQSClient;
  logger: Logger;
  queueUrl: string;
  dlqUrl?: string;
  message: MalformedMessage;
}

/** True once the message is out of the queue (in the DLQ, or deleted without one). */
export async function quarantineSqsMessage({
  client,
  logger,
  queueUrl,
  dlqUrl,
  message,
}: QuarantineOptions): Promise<boolean> {
  const { messageId, receipt, group, reason } = message;
  const fields = {
    messageId,
    group,
    reason,
    movedTo: dlqUrl ? 'dead-letter queue' : 'nowhere (deleted, no DLQ configured)',
  };
  try {
    if (dlqUrl) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: message.body || '(empty)', // SQS refuses an empty body
          MessageGroupId: group ?? 'fjord-malformed',
          MessageDeduplicationId: messageId, // a second copy after a crash between send and delete is dropped
          MessageAttributes: { [DEAD_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
        }),
      );
    }
    await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
    logger.error('sqs message is not a fjord job', fields);
    return true;
  } catch (err) {
    logger.error('sqs message is not a fjord job, and could not be moved aside; SQS redrive will move it', {
      ...fields,
      err,
    });
    return false;
  }
}

/**
 * The dead letters of an SQS queue: a peek at its dead-letter queue. SQS has no "peek", so messages are
 * received with a short visibility (a FIFO DLQ then goes on to the next group instead of returning the
 * same heads again) and all are handed back at once at the end. A FIFO DLQ holds a group while any of its
 * messages is in flight, so per group the list shows what one ReceiveMessage returns (SQS: up to 10, in
 * order; some local servers: 1): the oldest dead jobs of each app/environment. Messages that are not jobs
 * (moved there by `quarantineSqsMessage`) are left out.
 */
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from '../log.js';
import { fieldsOfSdkMessage, parseSqsMessage } from './parse-sqs-message.js';
import type { DeadLetter } from './queue.js';
import type { QueueKey } from './queue-key.js';
import { convertSqsError } from './sqs-errors.js';
import { receiveInput } from './sqs-requests.js';

export interface ListSqsDeadOptions {
  client: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  /** The source queue's maxReceiveCount; read from its RedrivePolicy when not given. */
  maxAttempts?: number;
  limit: number;
  logger: Logger;
  key: QueueKey;
}

const PEEK_SEC = 30;

export async function listSqsDead({
  client,
  queueUrl,
  dlqUrl,
  maxAttempts,
  limit,
  logger,
  key,
}: ListSqsDeadOptions): Promise<DeadLetter[]> {
  // SQS moved each of them after exactly maxReceiveCount receives. The DLQ's own ApproximateReceiveCount
  // is no use here: it keeps counting, peeks included.
  const attempts = maxAttempts ?? (await readMaxReceiveCount(client, queueUrl));
  const got: Message[] = [];
  try {
    while (got.length < limit) {
      const out = await client
        .send(new ReceiveMessageCommand(receiveInput(dlqUrl, Math.min(10, limit - got.length), PEEK_SEC, 0)))
        .catch((err: unknown) => Promise.reject(convertSqsError(err, 'ReceiveMessage (dead-letter queue)')));
      if (!out.Messages?.length) break;
      got.push(...out.Messages);
    }
  } finally {
    // Hand every peeked message back at once: listing must not hide dead letters from anyone else.
    await Promise.allSettled(
      got.map((m) =>
        client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: dlqUrl,
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        ),
      ),
    );
  }
  const dead: DeadLetter[] = [];
  const seen = new Set<string>();
  for (const m of got) {
    if (!m.MessageId || seen.has(m.MessageId)) continue;
    seen.add(m.MessageId);
    const parsed = parseSqsMessage(fieldsOfSdkMessage(m), key);
    if (!parsed.ok) {
      logger.debug('dead-letter queue holds a message that is not a job', {
        messageId: m.MessageId,
        reason: parsed.malformed.reason,
      });
      continue;
    }
    const { messageId, group, job } = parsed.message;
    dead.push({ messageId, group, job, attempts: attempts ?? parsed.message.attempts });
  }
  return dead;
}

/** `maxReceiveCount` of the queue's RedrivePolicy, or undefined when it has none. */
async function readMaxReceiveCount(client: SQSClient, queueUrl: string): Promise<number | undefined> {
  const out = await client
    .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }))
    .catch((err: unknown) => Promise.reject(convertSqsError(err, 'GetQueueAttributes')));
  const policy = out.Attributes?.RedrivePolicy;
  if (!policy) return undefined;
  const count = Number((JSON.parse(policy) as { maxReceiveCount?: unknown }).maxReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : undefined;
}

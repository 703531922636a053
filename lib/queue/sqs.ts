/**
 * The `Queue` contract on an SQS FIFO queue (issue 5): group = `MessageGroupId`, dedupId =
 * `MessageDeduplicationId` (SQS's 5-minute window), visibility = SQS visibility timeout, dead letters =
 * the queue's redrive policy (SQS moves a message itself after `maxReceiveCount` receives).
 *
 * One message per group per `receive`: SQS FIFO may return several messages of one group in one
 * ReceiveMessage call, and releasing the extra ones would still count a receive against each of them
 * (a message could reach the DLQ without ever being worked on). So `receive` asks for one message per
 * call: once a message of a group is in flight SQS returns no other message of that group, which is the
 * contract's "one in flight per group" kept by SQS itself, across processes.
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { QueueUnavailable } from '../errors.js';
import type { DeployJob } from '../job.js';
import { createLogger, type Logger } from '../log.js';
import { checkSendOptions } from './check-send-options.js';
import { listSqsDead } from './list-sqs-dead.js';
import { fieldsOfSdkMessage, parseSqsMessage } from './parse-sqs-message.js';
import type { DeadLetter, Queue, Received, SendOptions, SendResult } from './queue.js';
import { StaleReceipt } from './queue.js';
import { quarantineSqsMessage } from './quarantine-sqs-message.js';
import { ReceiptBook } from './receipt-book.js';
import type { QueueKey } from './queue-key.js';
import { convertSqsError } from './sqs-errors.js';
import { clampVisibility, receiveInput, requeueJobInput, sendJobInput } from './sqs-requests.js';
import { SentIds } from './sent-ids.js';

export interface SqsQueueOptions {
  queueUrl: string;
  /** The redrive target of `queueUrl`: read by `listDead`, and where malformed messages are moved. */
  dlqUrl?: string;
  region: string;
  /** Another SQS-compatible endpoint (tests, a local server); AWS's own when absent. */
  endpoint?: string;
  /** Default: the SDK's credential chain (environment, Lambda role, profile). */
  credentials?: SQSClientConfig['credentials'];
  /** A ready client (then region, endpoint and credentials are ignored, and `close` leaves it open). */
  client?: SQSClient;
  /** The queue's redrive `maxReceiveCount`; read from its RedrivePolicy when not given. */
  maxAttempts?: number;
  /** Long polling: how long an empty receive waits for a first message (0–20 s). */
  waitTimeSeconds?: number;
  logger?: Logger;
  /** Signs every send and checks every receive (lib/queue/queue-key.ts): a message that fails is quarantined, never run. */
  key: QueueKey;
}

export interface SqsQueue extends Queue {
  /** As `Queue.receive`; `signal` ends a long poll early, returning what was taken by then. */
  receive(max: number, visibilitySec: number, options?: { signal?: AbortSignal }): Promise<Received[]>;
  /** Peeks at the dead-letter queue (at most `limit` messages), leaving every message in it. */
  listDead(limit?: number): Promise<DeadLetter[]>;
}

export function createSqsQueue(options: SqsQueueOptions): SqsQueue {
  const { region, endpoint, credentials } = options;
  const waitTimeSeconds = Math.min(20, Math.max(0, options.waitTimeSeconds ?? 20));
  const client =
    options.client ??
    new SQSClient({
      region,
      endpoint,
      credentials,
      // A long poll holds the request open for up to waitTimeSeconds: the timeout must outlast it.
      requestHandler: { connectionTimeout: 3_000, requestTimeout: (waitTimeSeconds + 10) * 1_000 },
      maxAttempts: 3,
    });
  return new SqsQueueImpl(client, !options.client, { ...options, waitTimeSeconds });
}

class SqsQueueImpl implements SqsQueue {
  readonly #book = new ReceiptBook();
  readonly #sent = new SentIds();
  readonly #logger: Logger;
  #closed = false;

  constructor(
    readonly client: SQSClient,
    readonly ownsClient: boolean,
    readonly options: SqsQueueOptions & { waitTimeSeconds: number },
  ) {
    this.#logger = options.logger ?? createLogger({ base: { queue: 'sqs' } });
  }

  async send(job: DeployJob, { group, dedupId }: SendOptions): Promise<SendResult> {
    this.#check();
    checkSendOptions(group, dedupId);
    const input = sendJobInput(this.options.queueUrl, job, group, dedupId, this.options.key);
    const out = await this.#call('SendMessage', () => this.client.send(new SendMessageCommand(input)));
    if (!out.MessageId) throw new QueueUnavailable('SQS SendMessage: answer without a MessageId');
    // SQS answers a duplicate with the first send's MessageId and no flag: only a MessageId this process
    // has seen before can be told apart (see README "SQS": duplicates across processes are not flagged).
    return { messageId: out.MessageId, duplicate: this.#sent.seenBefore(out.MessageId) };
  }

  async receive(max: number, visibilitySec: number, { signal }: { signal?: AbortSignal } = {}): Promise<Received[]> {
    this.#check();
    if (max < 1 || signal?.aborted) return [];
    const out: Received[] = [];
    const groups = new Set<string>();
    const first = await this.#receiveOne(visibilitySec, this.options.waitTimeSeconds, signal);
    let batch = first ? [first] : [];
    let asked = 1;
    while (batch.length > 0) {
      for (const m of batch) await this.#take(m, groups, out);
      const want = Math.min(10, max - out.length);
      if (want <= 0 || batch.length < asked || signal?.aborted) break; // full, or SQS had no more to give
      asked = want;
      // What this call took is in flight already: a failing follow-up must not lose it, so it only ends the call.
      const settled = await Promise.allSettled(
        Array.from({ length: want }, () => this.#receiveOne(visibilitySec, 0, signal)),
      );
      batch = settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
    }
    return out;
  }

  async ack(message: Received): Promise<void> {
    await this.#withReceipt(message, 'DeleteMessage', () =>
      this.client.send(new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.receipt })),
    );
    this.#book.end(message.receipt);
  }

  async retry(message: Received, delaySec = 0): Promise<void> {
    await this.#changeVisibility(message, delaySec);
    this.#book.end(message.receipt);
  }

  /** The copy first, then the original's delete: a failed delete redelivers the original, whose copy's dedup id is taken. */
  async requeue(message: Received, held: boolean): Promise<void> {
    this.#check();
    const input = requeueJobInput(this.options.queueUrl, message, held, this.options.key);
    await this.#call('SendMessage', () => this.client.send(new SendMessageCommand(input)), message.messageId);
    await this.ack(message);
  }

  async extend(message: Received, visibilitySec: number): Promise<void> {
    const sec = await this.#changeVisibility(message, visibilitySec);
    this.#book.extend(message.receipt, Date.now() + sec * 1000);
  }

  listDead(limit = 100): Promise<DeadLetter[]> {
    this.#check();
    const { dlqUrl, queueUrl, maxAttempts, key } = this.options;
    if (!dlqUrl) return Promise.resolve([]);
    return listSqsDead({ client: this.client, queueUrl, dlqUrl, maxAttempts, limit, logger: this.#logger, key });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.ownsClient) this.client.destroy();
  }

  /** One ReceiveMessage for one message; a fresh attempt id lets the SDK's own retries get the same answer. */
  async #receiveOne(visibilitySec: number, waitSec: number, signal?: AbortSignal): Promise<Message | undefined> {
    const input = {
      ...receiveInput(this.options.queueUrl, 1, visibilitySec, waitSec),
      ReceiveRequestAttemptId: randomUUID(),
    };
    const out = await this.#call('ReceiveMessage', () =>
      this.client.send(new ReceiveMessageCommand(input), { abortSignal: signal }),
    ).catch((err: unknown) => {
      if (signal?.aborted) return { Messages: undefined };
      throw err;
    });
    const m = out.Messages?.[0];
    // Counted from the answer, not the request: a long poll may hand the message over late in its wait, and
    // the book must never call a receipt stale that SQS still honours (SQS itself refuses later ones).
    if (m?.MessageId && m.ReceiptHandle)
      this.#book.hold(m.MessageId, m.ReceiptHandle, Date.now() + clampVisibility(visibilitySec) * 1000);
    return m;
  }

  /** Adds `m` to `out`, moves it aside when it is not a job, or gives it back when its group is taken. */
  async #take(m: Message, groups: Set<string>, out: Received[]): Promise<void> {
    if (!m.MessageId || !m.ReceiptHandle) return;
    const parsed = parseSqsMessage(fieldsOfSdkMessage(m), this.options.key);
    if (!parsed.ok) {
      await quarantineSqsMessage({
        client: this.client,
        logger: this.#logger,
        queueUrl: this.options.queueUrl,
        dlqUrl: this.options.dlqUrl,
        message: parsed.malformed,
      });
      this.#book.end(m.ReceiptHandle);
      return;
    }
    const received = parsed.message;
    if (groups.has(received.group)) {
      // Only a server that does not hold a FIFO group while a message of it is in flight gets here.
      this.#logger.warn('sqs returned a second message of a group in flight; giving it back', {
        group: received.group,
        messageId: received.messageId,
      });
      await this.retry(received, 0).catch(() => {});
      return;
    }
    groups.add(received.group);
    out.push(received);
  }

  async #changeVisibility(message: Received, visibilitySec: number): Promise<number> {
    const sec = clampVisibility(visibilitySec);
    const input = { QueueUrl: this.options.queueUrl, ReceiptHandle: message.receipt, VisibilityTimeout: sec };
    await this.#withReceipt(message, 'ChangeMessageVisibility', () =>
      this.client.send(new ChangeMessageVisibilityCommand(input)),
    );
    return sec;
  }

  async #withReceipt<T>(message: Received, operation: string, run: () => Promise<T>): Promise<T> {
    this.#check();
    if (!this.#book.usable(message.receipt)) throw new StaleReceipt(message.messageId);
    try {
      return await this.#call(operation, run, message.messageId);
    } catch (err) {
      if (err instanceof StaleReceipt) this.#book.end(message.receipt);
      throw err;
    }
  }

  async #call<T>(operation: string, run: () => Promise<T>, messageId?: string): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw convertSqsError(err, operation, messageId);
    }
  }

  #check(): void {
    if (this.#closed) throw new QueueUnavailable('queue is closed');
  }
}

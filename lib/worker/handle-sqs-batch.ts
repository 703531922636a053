/**
 * One Lambda SQS batch through the job handler (issue 5): the answer lists in `batchItemFailures` only the
 * records SQS must deliver again — a `RetryableError` or a crash of the handler. Every outcome, `failed`
 * included (rolled back and reported: final), is done. On a FIFO queue a group's records run one after the
 * other, in order; once one of them is to be retried, every later record of that group is reported too,
 * unrun, so SQS redelivers them after it and the group's order holds (AWS Lambda docs, "Reporting batch
 * item failures": for FIFO, stop at the first failure of a group and return it and the rest). Groups run
 * side by side. Pure apart from the ports handed in.
 *
 * A job a gate (a freeze) holds waits as a copy at the back of its group, marked held (`requeue`; the
 * rounds and the release are lib/worker/hand-back.ts, shared with the worker loop): a newer merge queued
 * during the freeze rolls out first and the older is then superseded.
 */
import type { Logger } from '../log.js';
import { receiveBatchFromSqsEvent, type SqsEvent } from '../queue/sqs-event.js';
import type { MalformedMessage } from '../queue/parse-sqs-message.js';
import type { QueueKey } from '../queue/queue-key.js';
import { MAX_VISIBILITY_SEC } from '../queue/sqs-requests.js';
import { handBackOf, logHandBack, requeueCopy } from './hand-back.js';
import type { Received } from '../queue/queue.js';
import type { JobContext, JobHandler } from './worker-loop.js';

export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export interface SqsBatchOptions {
  handle: JobHandler;
  logger: Logger;
  /** ChangeMessageVisibility of one record (its receipt handle) to `sec` seconds from now: the heartbeat. */
  extend(receipt: string, sec: number): Promise<void>;
  /** The heartbeat's visibility; renewed every third of it while a job runs. */
  visibilitySec?: number;
  signal?: AbortSignal;
  /** Checks every record's signature (lib/queue/queue-key.ts) before its body is read. */
  key: QueueKey;
  /**
   * Moves a record that is not a job (unsigned, forged, malformed) to the DLQ at once, so it does not hold
   * its group until the redrive policy gives up on it; true when it is out of the queue. Absent, or false:
   * the record is reported as failed and SQS's redrive moves it.
   */
  quarantine?(malformed: MalformedMessage): Promise<boolean>;
  /**
   * Sends a fresh copy of `message`'s job to the back of its group (`held`: marked as held by a gate). The
   * original, not reported, is then deleted. Absent: a held job stays in flight, a receive per round.
   */
  requeue?(message: Received, held: boolean): Promise<void>;
  /** The longest one round of holding keeps a job invisible (SQS: 12 h). */
  maxHoldSec?: number;
}

export async function handleSqsBatch(
  event: SqsEvent,
  {
    handle,
    logger,
    extend,
    visibilitySec = 900,
    signal = new AbortController().signal,
    key,
    quarantine,
    requeue,
    maxHoldSec = MAX_VISIBILITY_SEC,
  }: SqsBatchOptions,
): Promise<SqsBatchResponse> {
  const items = receiveBatchFromSqsEvent(event, key);
  const failed = new Set<string>();
  const groups = new Map<string, number[]>();
  const retryAfter: Array<{ receipt: string; delaySec: number }> = [];
  items.forEach((item, i) => {
    const group = item.ok ? item.message.group : (event.Records[i]!.attributes.MessageGroupId ?? `#${i}`);
    groups.set(group, [...(groups.get(group) ?? []), i]);
  });

  const runGroup = async (indexes: number[]) => {
    let blocked = false;
    for (const i of indexes) {
      const item = items[i]!;
      const id = event.Records[i]!.messageId;
      if (blocked) {
        failed.add(id);
        continue;
      }
      if (!item.ok) {
        // Not a job (or not one fjord signed): never run. Moved to the DLQ now when possible; otherwise
        // reported, so the queue's redrive policy moves it there, where a person can look.
        if (await quarantine?.(item.malformed)) continue;
        logger.error('malformed message; left to the dead-letter queue', {
          messageId: id,
          reason: item.malformed.reason,
        });
        failed.add(id);
        blocked = true;
        continue;
      }
      const msg = item.message;
      const log = logger.child({
        job: msg.job.id,
        app: msg.job.app,
        environment: msg.job.environment,
        attempt: msg.attempts,
      });
      const beat = setInterval(
        () => void extend(msg.receipt, visibilitySec).catch(() => {}),
        (visibilitySec * 1000) / 3,
      );
      try {
        const ctx: JobContext = {
          heartbeat: (sec = visibilitySec) => extend(msg.receipt, sec),
          attempts: msg.attempts,
          logger: log,
          signal,
          ...(msg.held ? { heldBefore: true } : {}),
        };
        const outcome = await handle(msg.job, ctx);
        log.info('job done', {
          status: outcome.status,
          detail: outcome.detail,
          reason: msg.job.reason,
          tag: msg.job.tag,
        });
      } catch (err) {
        const back = handBackOf(err, msg, maxHoldSec);
        // A new copy at the group's back (a first hold, a next round, or released): this one is done; the
        // rest of the group comes back at once, ahead of the copy.
        if (back.copy && requeue && (await requeueCopy(requeue, msg, err as Error, back.held, log))) {
          blocked = true;
          for (const j of indexes.slice(indexes.indexOf(i) + 1)) {
            failed.add(event.Records[j]!.messageId);
            retryAfter.push({ receipt: event.Records[j]!.receiptHandle, delaySec: 0 });
          }
          continue;
        }
        logHandBack(err, back.delaySec, log);
        failed.add(id);
        blocked = true;
        retryAfter.push(
          ...indexes
            .slice(indexes.indexOf(i))
            .map((j) => ({ receipt: event.Records[j]!.receiptHandle, delaySec: back.delaySec })),
        );
      } finally {
        clearInterval(beat);
      }
    }
  };
  await Promise.all([...groups.values()].map(runGroup));
  // Lambda leaves a reported record invisible for the rest of the queue's visibility timeout (6 × the
  // function timeout): shortened to the job's back-off, for it and the records of its group held behind it.
  await Promise.all(
    retryAfter.map(({ receipt, delaySec }) =>
      extend(receipt, delaySec).catch((error) => logger.warn('could not shorten a retry delay', { error })),
    ),
  );
  // In the event's order, which is how AWS documents the list.
  return {
    batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  };
}

/**
 * The reconcile schedule on AWS: an EventBridge rule (infra/stack.ts, rate = `reconcile.interval`) invokes
 * this handler, which sends the tick's reconcile jobs to the SQS FIFO queue the worker Lambda consumes.
 * The tick is the event's `time`, so a retried invocation makes the same job ids (SQS drops the repeats).
 * Environment: FJORD_SQS_QUEUE_URL (+ AWS_REGION, FJORD_SQS_ENDPOINT), the bundled fjord.yaml or
 * FJORD_CONFIG_YAML, FJORD_QUEUE_KEY (signs the jobs; from Secrets Manager). No SSH: only sqs:SendMessage.
 */
import { configFromEnv } from '../config/config-from-env.js';
import { createLogger, type Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { sendOnlySqsQueueFromEnv } from '../queue/sqs-send-env.js';
import { enqueueReconcileJobs, type ReconcileSent } from './enqueue-reconcile.js';

/** The part of an EventBridge scheduled event this handler reads. */
export interface ScheduledEvent {
  time?: string;
}

export function makeLambdaReconcile({
  env = process.env,
  logger = createLogger(),
  queue,
}: {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  queue?: Pick<Queue, 'send'>;
} = {}) {
  const { config } = configFromEnv(env);
  const target = queue ?? sendOnlySqsQueueFromEnv(env);
  return async (event: ScheduledEvent = {}): Promise<{ queued: ReconcileSent[] }> => {
    const time = event.time ? new Date(event.time) : new Date();
    return {
      queued: await enqueueReconcileJobs(target, config, Number.isNaN(time.getTime()) ? new Date() : time, logger),
    };
  };
}

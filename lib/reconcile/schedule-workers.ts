/**
 * The reconcile schedule on Cloudflare Workers: the cron trigger of wrangler.toml calls `scheduled`, which
 * sends this tick's reconcile jobs to SQS FIFO over fetch (lib/queue/sqs-fetch.ts), like the receiver's
 * deploy jobs. The worker that runs them (Lambda or `fjord worker`) has the SSH access Workers lack.
 * The tick is the trigger's `scheduledTime`, so a retried trigger makes the same job ids.
 */
import type { Logger } from '../log.js';
import { workersLogger, workersParts, type WorkersBindings } from '../receiver/workers.js';
import { enqueueReconcileJobs, type ReconcileSent } from './enqueue-reconcile.js';

export async function workersScheduled(
  bindings: WorkersBindings,
  scheduledTime: number,
  logger: Logger = workersLogger(bindings),
): Promise<ReconcileSent[]> {
  const { config, queue } = workersParts(bindings);
  return enqueueReconcileJobs(queue, config, new Date(scheduledTime), logger);
}

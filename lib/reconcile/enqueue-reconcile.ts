/** Sends one tick's reconcile jobs (`reconcileJobs`) to a queue: what every scheduler calls. */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { sendJob } from '../queue/send-job.js';
import { reconcileJobs } from './reconcile-jobs.js';

export interface ReconcileSent {
  id: string;
  app: string;
  environment: string;
  /** The queue already held this tick's job (a repeated tick). */
  duplicate: boolean;
}

export async function enqueueReconcileJobs(
  queue: Pick<Queue, 'send'>,
  config: Config,
  now: Date,
  logger?: Logger,
): Promise<ReconcileSent[]> {
  const sent: ReconcileSent[] = [];
  for (const job of reconcileJobs(config, now)) {
    const { duplicate } = await sendJob(queue, job);
    sent.push({ id: job.id, app: job.app, environment: job.environment, duplicate });
  }
  logger?.info('reconcile jobs enqueued', {
    tick: now.toISOString(),
    jobs: sent.length,
    duplicates: sent.filter((s) => s.duplicate).length,
  });
  return sent;
}

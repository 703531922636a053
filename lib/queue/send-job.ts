/** Sends a job with the group and dedup id every run mode uses: `<app>/<env>` and `<app>/<env>/<sha>`. */
import { dedupIdOf, groupOf, type DeployJob } from '../job.js';
import type { Queue, SendResult } from './queue.js';

export const sendJob = (queue: Pick<Queue, 'send'>, job: DeployJob): Promise<SendResult> =>
  queue.send(job, { group: groupOf(job), dedupId: dedupIdOf(job) });

/** `enqueue` port for the worker (promotions) on `queue`. */
export const enqueueOn =
  (queue: Pick<Queue, 'send'>) =>
  async (job: DeployJob): Promise<void> =>
    void (await sendJob(queue, job));

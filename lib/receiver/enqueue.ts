/** Sends routed jobs to the queue; a queue that cannot take them is a 503, so the sender retries. */
import { FjordError, QueueUnavailable } from '../errors.js';
import type { DeployJob } from '../job.js';
import { sendJob } from '../queue/send-job.js';
import { QueueFull } from '../queue/errors.js';
import type { Queue } from '../queue/queue.js';

/**
 * One entry of the 202 answer. `duplicate: true`: the queue already held a job for this app, environment
 * and sha (a merge and the push it causes, or a redelivery), so this one was dropped and nothing new runs.
 */
export interface QueuedEntry {
  id: string;
  app: string;
  environment: string;
  tag: string;
  sha: string | undefined;
  duplicate?: true;
}

export async function enqueueJobs(queue: Queue, jobs: readonly DeployJob[]): Promise<QueuedEntry[]> {
  const queued: QueuedEntry[] = [];
  for (const job of jobs) {
    let duplicate: boolean;
    try {
      ({ duplicate } = await sendJob(queue, job));
    } catch (err) {
      // A queue refusing the job for what it holds (4xx) says so; anything else is "try again later".
      // A full group (QueueFull, 503) says which app/environment and why.
      if (err instanceof FjordError && (err.status < 500 || err instanceof QueueFull)) throw err;
      throw new QueueUnavailable('the queue cannot take the job right now; retry later', { cause: err });
    }
    queued.push({
      id: job.id,
      app: job.app,
      environment: job.environment,
      tag: job.tag,
      sha: job.sha,
      ...(duplicate ? { duplicate: true as const } : {}),
    });
  }
  return queued;
}

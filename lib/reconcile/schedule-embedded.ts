/**
 * The reconcile schedule of the embedded mode: every `reconcile.interval` (and once at start), this tick's
 * reconcile jobs go into the local queue, where the worker beside it runs them. `interval: 0` turns it off.
 * A restart within one tick sends nothing new: the tick's job ids are the same, and the durable queue
 * remembers their dedup ids across restarts.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { enqueueReconcileJobs } from './enqueue-reconcile.js';

export interface ReconcileSchedule {
  /** Resolves when the tick in progress (if any) has sent its jobs. */
  stop(): Promise<void>;
}

export function startReconcileSchedule({
  queue,
  config,
  logger,
  now = () => new Date(),
}: {
  queue: Pick<Queue, 'send'>;
  config: Config;
  logger: Logger;
  now?: () => Date;
}): ReconcileSchedule {
  const interval = config.reconcile.interval;
  if (interval <= 0) return { stop: async () => {} };
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running
      .then(() => enqueueReconcileJobs(queue, config, now(), logger))
      .catch((error) => logger.warn('reconcile jobs not enqueued; next tick tries again', { error }));
  };
  tick();
  const timer = setInterval(tick, interval);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

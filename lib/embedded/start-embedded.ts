/**
 * Embedded mode (`npm start`): one Node process runs the receiver, the durable local queue and the worker.
 * The default on a fresh machine: no cloud, no database, state under `FJORD_DATA_DIR` (default ./.fjord).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { seedRepository } from '../manifest/seed-repository.js';
import { createLocalQueue } from '../queue/local.js';
import { localQueueDir } from '../queue/read-local.js';
import { DeliveryLog } from '../receiver/delivery-log.js';
import { localQueueKey } from '../queue/local-queue-key.js';
import { startReceiver } from '../receiver/serve-node.js';
import { makeDeployHandler } from '../worker/make-handler.js';
import { startWorker, type JobHandler } from '../worker/worker-loop.js';
import type { DeployJob } from '../job.js';
import { enqueueOn } from '../queue/send-job.js';
import type { Outcome } from '../worker/outcome.js';
import { exposureNote, statusPageExposure } from '../status-page/exposure.js';
import { statusPageFromConfig } from '../status-page/from-config.js';
import { startReconcileSchedule } from '../reconcile/schedule-embedded.js';
import { createNotifier } from '../notify/from-config.js';
import { reportReplaced } from '../notify/report-replaced.js';

export interface EmbeddedOptions {
  config: Config;
  configPath: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  logger: Logger;
  port?: number;
  hostname?: string;
  /** Tests replace the deploy handler. */
  handler?: JobHandler;
  onOutcome?: (job: DeployJob, outcome: Outcome) => void;
}

export interface RunningEmbedded {
  url: string;
  /** What `GET /` does, and why (lib/status-page/exposure.ts). */
  statusPage: string;
  stop(): Promise<void>;
}

export async function startEmbedded({
  config,
  configPath,
  env,
  cwd,
  logger,
  port,
  hostname,
  handler,
  onOutcome,
}: EmbeddedOptions): Promise<RunningEmbedded> {
  const dataDir = resolve(cwd, env.FJORD_DATA_DIR ?? '.fjord');
  // The journal, the queue key and the manifest cache live here: the owner's alone (issue 12, item 9).
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const seeded = await seedRepository(config, configPath);
  if (seeded) logger.info('manifest repository created from seed', { repository: seeded, seed: config.manifest.seed });
  // Built before anything starts: a status page token that is unset or too short stops the start, and a
  // worker already polling would keep the process alive. The address decides who may read it
  // (lib/status-page/exposure.ts): startReceiver binds the same one.
  const bind = hostname ?? env.HOST ?? '0.0.0.0';
  const statusPage = statusPageFromConfig({ config, configPath, env, dataDir, logger, hostname: bind });
  const replaced = reportReplaced(createNotifier(config, { env, logger }));
  const queue = await createLocalQueue({
    dir: localQueueDir(env, cwd),
    maxAttempts: config.worker.maxAttempts,
    key: await localQueueKey(env, dataDir),
    maxPerGroup: config.worker.maxQueuedPerGroup,
    coalesce: true,
    // Its MR note and commit status (a freeze's "waiting …" included) then name the newer deploy.
    onCoalesced: (dropped) => {
      const { messageId, job, by } = dropped;
      logger.info('job coalesced', {
        job: job.id,
        app: job.app,
        environment: job.environment,
        tag: job.tag,
        reason: job.reason,
        messageId,
        by,
        detail: 'a newer deploy of this app/environment is queued; not run',
      });
      void replaced(dropped);
    },
    // Out of attempts (its worker kept failing, or kept dying mid-job): say so, it will not run again.
    onDead: ({ messageId, job, attempts, reason: refusal }) =>
      logger.error('job dead-lettered', {
        job: job.id,
        app: job.app,
        environment: job.environment,
        tag: job.tag,
        reason: job.reason,
        attempts,
        messageId,
        detail: refusal ?? `${attempts} deliveries ended without an outcome; not retried (fjord queue ls lists it)`,
      }),
  });
  const handle = handler ?? makeDeployHandler({ config, configPath, dataDir, env, enqueue: enqueueOn(queue) });
  const worker = startWorker({
    queue,
    handle,
    logger,
    concurrency: config.worker.concurrency,
    visibilitySec: Math.ceil(config.worker.visibility / 1000),
    ...(onOutcome ? { onOutcome } : {}),
  });
  // Drift checks (and self-heal) every reconcile.interval, through the same queue as deploys.
  const schedule = startReconcileSchedule({ queue, config, logger });
  // Deliveries remembered for 7 days (issue 12, item 2): a GitLab "Resend" after a rollback queues nothing.
  const deliveries = new DeliveryLog(join(dataDir, 'deliveries.log'));
  const receiver = await startReceiver({
    queue,
    config,
    env,
    logger,
    deliveries,
    hostname: bind,
    ...(port !== undefined ? { port } : {}),
    ...(statusPage ? { statusPage } : {}),
  });
  logger.info('fjord started (embedded)', {
    url: receiver.url,
    dataDir,
    config: configPath,
    apps: Object.keys(config.apps),
  });
  return {
    url: receiver.url,
    statusPage: exposureNote(statusPageExposure(config, bind), bind),
    async stop() {
      await receiver.close();
      await schedule.stop();
      await worker.stop();
      await queue.close();
    },
  };
}

/**
 * `fjord worker --queue sqs`: the worker alone on a box of the team's own (SSH keys stay there), long
 * polling the SQS FIFO queue the environment names (lib/queue/sqs-env.ts) until SIGINT/SIGTERM; the
 * receiver runs elsewhere (Lambda, Workers). Same handler as every other run mode (makeDeployHandler).
 */
import { resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { sqsQueueFromEnv } from '../queue/sqs-env.js';
import { makeDeployHandler } from '../worker/make-handler.js';
import { enqueueOn } from '../queue/send-job.js';
import { startWorker } from '../worker/worker-loop.js';
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';

export const worker: Command = {
  name: ['worker'],
  summary: 'run only the worker, on the SQS FIFO queue of FJORD_SQS_QUEUE_URL (AWS_REGION, FJORD_DATA_DIR)',
  usage: 'fjord worker --queue sqs [--config file] [--concurrency N]',
  async run(args, io) {
    const { values } = parse(args, {
      config: { type: 'string' },
      queue: { type: 'string', default: 'sqs' },
      concurrency: { type: 'string' },
    });
    if (values.queue !== 'sqs')
      throw new UsageError(`--queue ${values.queue}: only "sqs" (the embedded queue runs inside \`fjord start\`)`);
    const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1))
      throw new UsageError(`--concurrency: a whole number ≥ 1, not ${values.concurrency}`);
    const { config, path } = loadConfig({ file: values.config, env: io.env, cwd: io.cwd });
    const logger = createLogger({ write: (line) => io.stderr(line + '\n') });
    const sqs = sqsQueueFromEnv(io.env, { maxAttempts: config.worker.maxAttempts, logger });
    // The worker loop knows no abort signal for a receive: this one ends the 20 s long poll at once on stop.
    const stopping = new AbortController();
    const queue: Queue = { ...bind(sqs), receive: (max, vis) => sqs.receive(max, vis, { signal: stopping.signal }) };
    const running = startWorker({
      queue,
      handle: makeDeployHandler({
        config,
        configPath: path,
        dataDir: resolve(io.cwd, io.env.FJORD_DATA_DIR ?? '.fjord'),
        env: io.env,
        enqueue: enqueueOn(sqs),
      }),
      logger,
      concurrency: concurrency ?? config.worker.concurrency,
      visibilitySec: Math.ceil(config.worker.visibility / 1000),
    });
    logger.info('fjord worker started', { queue: 'sqs', config: path, apps: Object.keys(config.apps) });
    io.stdout('fjord worker polling SQS (stop with Ctrl-C)\n');
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    logger.info('stopping; waiting for jobs in flight');
    stopping.abort();
    await running.stop();
    await sqs.close();
    return 0;
  },
};

function bind(q: Queue): Queue {
  return {
    send: q.send.bind(q),
    receive: q.receive.bind(q),
    ack: q.ack.bind(q),
    retry: q.retry.bind(q),
    extend: q.extend.bind(q),
    close: q.close.bind(q),
    ...(q.requeue ? { requeue: q.requeue.bind(q) } : {}),
  };
}

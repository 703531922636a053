/**
 * The receiver as a Lambda handler (function URL or HTTP API, payload v2.0; API Gateway v1 and ALB work
 * too) through `hono/aws-lambda`: the same Hono app as on Node, the SQS FIFO queue from the environment
 * (lib/queue/sqs-env.ts). Config and secrets are read once, when the handler is made (a cold start).
 */
import { handle } from 'hono/aws-lambda';
import { configFromEnv } from '../config/config-from-env.js';
import { webhookSecrets } from '../config/secrets.js';
import { createLogger, type Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { sendOnlySqsQueueFromEnv } from '../queue/sqs-send-env.js';
import { createReceiver } from './app.js';

export interface LambdaReceiverOptions {
  env?: NodeJS.ProcessEnv;
  /** Default: the SQS queue `FJORD_SQS_QUEUE_URL` names. */
  queue?: Queue;
  logger?: Logger;
}

/** A Lambda handler for the receiver; `event` is a Lambda HTTP event, the answer its proxy result. */
export function makeLambdaReceiver({ env = process.env, queue, logger = createLogger() }: LambdaReceiverOptions = {}) {
  const { config } = configFromEnv(env);
  const app = createReceiver({
    config,
    secrets: webhookSecrets(config, env),
    // The receiver only sends: one signed fetch per job, no SDK (lib/queue/sqs-send-env.ts).
    queue: queue ?? sendOnlySqsQueueFromEnv(env),
    logger,
  });
  return handle(app);
}

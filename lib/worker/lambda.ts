/**
 * The worker as a Lambda SQS event handler (event source mapping with `ReportBatchItemFailures`):
 * config and ports wired once per cold start, each batch through `handleSqsBatch`. The heartbeat is
 * ChangeMessageVisibility on the record's receipt handle, on the queue `FJORD_SQS_QUEUE_URL` names.
 *
 * Environment: FJORD_SQS_QUEUE_URL (+ AWS_REGION, FJORD_SQS_ENDPOINT, FJORD_SQS_DLQ_URL), FJORD_QUEUE_KEY, FJORD_CONFIG_YAML or the bundled
 * fjord.yaml, the secrets fjord.yaml names, FJORD_DATA_DIR (default /tmp/fjord: Lambda's only writable
 * place), FJORD_VISIBILITY_SECONDS (the heartbeat's visibility, default 900).
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { configFromEnv } from '../config/config-from-env.js';
import { createLogger, type Logger } from '../log.js';
import type { SqsEvent } from '../queue/sqs-event.js';
import { sqsOptionsFromEnv, sqsQueueFromEnv } from '../queue/sqs-env.js';
import { enqueueOn } from '../queue/send-job.js';
import { clampVisibility, requeueJobInput } from '../queue/sqs-requests.js';
import type { MalformedMessage } from '../queue/parse-sqs-message.js';
import { quarantineSqsMessage } from '../queue/quarantine-sqs-message.js';
import { handleSqsBatch, type SqsBatchResponse } from './handle-sqs-batch.js';
import { makeDeployHandler } from './make-handler.js';
import type { JobHandler } from './worker-loop.js';
import type { Received } from '../queue/queue.js';

export interface LambdaWorkerOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Default: the deploy handler of fjord.yaml (`makeDeployHandler`). */
  handle?: JobHandler;
  /** The longest one round of holding a job a gate holds (default SQS's 12 h; tests shorten it). */
  maxHoldSec?: number;
}

export function makeLambdaWorker({
  env = process.env,
  logger = createLogger(),
  handle,
  maxHoldSec,
}: LambdaWorkerOptions = {}) {
  const sqs = sqsOptionsFromEnv(env);
  const client = new SQSClient({
    region: sqs.region,
    endpoint: sqs.endpoint,
    credentials: sqs.credentials,
    maxAttempts: 3,
  });
  const visibilitySec = Number(env.FJORD_VISIBILITY_SECONDS) || 900;
  let jobHandler = handle;
  if (!jobHandler) {
    const { config, path } = configFromEnv(env);
    // Promotions go back through the same queue the receiver fills.
    const queue = sqsQueueFromEnv(env, { maxAttempts: config.worker.maxAttempts, logger });
    jobHandler = makeDeployHandler({
      config,
      configPath: path,
      dataDir: env.FJORD_DATA_DIR ?? '/tmp/fjord',
      env,
      enqueue: enqueueOn(queue),
    });
  }
  const extend = async (receipt: string, sec: number) => {
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: sqs.queueUrl,
        ReceiptHandle: receipt,
        VisibilityTimeout: clampVisibility(sec),
      }),
    );
  };
  const requeue = async (message: Received, held: boolean) => {
    await client.send(new SendMessageCommand(requeueJobInput(sqs.queueUrl, message, held, sqs.key)));
  };
  // Only with a DLQ to copy it to: without one a refused message is reported, and the redrive policy keeps
  // it (a forged message is evidence; deleting it would lose it).
  const dlqUrl = sqs.dlqUrl;
  const quarantine = dlqUrl
    ? (message: MalformedMessage) => quarantineSqsMessage({ client, logger, queueUrl: sqs.queueUrl, dlqUrl, message })
    : undefined;
  return (event: SqsEvent): Promise<SqsBatchResponse> =>
    handleSqsBatch(event, {
      handle: jobHandler,
      logger,
      extend,
      requeue,
      visibilitySec,
      key: sqs.key,
      ...(maxHoldSec ? { maxHoldSec } : {}),
      ...(quarantine ? { quarantine } : {}),
    });
}

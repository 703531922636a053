/**
 * A send-only SQS queue from the environment, for the functions that only enqueue (the Lambda receiver
 * and the reconcile scheduler): the settings of lib/queue/sqs-env.ts, sent with one SigV4-signed `fetch`
 * (lib/queue/sqs-fetch.ts) as the Workers receiver does. No AWS SDK in these bundles: the SDK was half of
 * each and most of a cold start's module compile (issue 15, item 4; bench/bundles.ts measures it).
 * Credentials are the function role's keys, which Lambda puts in the environment.
 */
import { ConfigError } from '../errors.js';
import type { Queue } from './queue.js';
import { sqsOptionsFromEnv } from './sqs-env.js';
import { createSqsFetchQueue } from './sqs-fetch.js';

export function sendOnlySqsQueueFromEnv(env: NodeJS.ProcessEnv = process.env): Queue {
  const options = sqsOptionsFromEnv(env);
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = env;
  if (!accessKeyId || !secretAccessKey)
    throw new ConfigError(
      ['AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: required (Lambda sets them from the function role)'],
      'environment',
    );
  return createSqsFetchQueue({
    queueUrl: options.queueUrl,
    key: options.key,
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    accessKeyId,
    secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
  });
}

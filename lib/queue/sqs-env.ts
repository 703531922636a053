/**
 * SQS queue settings from the environment (issue 5: "Endpoint, region and queue URL from the environment"):
 *
 *   FJORD_SQS_QUEUE_URL   the FIFO queue (required; its name ends in `.fifo`)
 *   FJORD_SQS_DLQ_URL     its dead-letter queue (optional: `listDead`, malformed messages)
 *   AWS_REGION            or AWS_DEFAULT_REGION, or the region in an `sqs.<region>.amazonaws.com` URL
 *   FJORD_SQS_ENDPOINT    another SQS-compatible endpoint (optional)
 *   FJORD_SQS_WAIT_SECONDS long-polling wait, 0–20 (optional, default 20)
 *   FJORD_QUEUE_KEY       the key every message is signed and checked with (required: lib/queue/queue-key.ts)
 *
 * Credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`) when both are in `env`,
 * otherwise the SDK's own chain (Lambda role, instance profile, `AWS_PROFILE`).
 */
import { ConfigError } from '../errors.js';
import { Secret } from '../secret.js';
import { createSqsQueue, type SqsQueue, type SqsQueueOptions } from './sqs.js';
import { regionOfQueueUrl } from './sqs-region.js';
import { queueKeyFromEnv, QUEUE_KEY_ENV } from './queue-key.js';

export function sqsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SqsQueueOptions {
  const issues: string[] = [];
  const url = (name: string, required: boolean): string | undefined => {
    const value = env[name]?.trim();
    if (!value) {
      if (required) issues.push(`${name}: required (the URL of the SQS FIFO queue)`);
      return undefined;
    }
    if (!/^https?:\/\/[^/\s]+\/\S+$/.test(value)) issues.push(`${name}: not a queue URL: ${JSON.stringify(value)}`);
    else if (!value.endsWith('.fifo'))
      issues.push(`${name}: must name a FIFO queue (ending in .fifo): ${JSON.stringify(value)}`);
    return value;
  };
  const queueUrl = url('FJORD_SQS_QUEUE_URL', true);
  const dlqUrl = url('FJORD_SQS_DLQ_URL', false);
  const endpoint = env.FJORD_SQS_ENDPOINT?.trim() || undefined;
  if (endpoint && !/^https?:\/\/\S+$/.test(endpoint))
    issues.push(`FJORD_SQS_ENDPOINT: not an http(s) URL: ${JSON.stringify(endpoint)}`);
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || regionOfQueueUrl(queueUrl);
  if (!region) issues.push('AWS_REGION: required (the region of the SQS queue, e.g. eu-central-1)');
  let waitTimeSeconds: number | undefined;
  if (env.FJORD_SQS_WAIT_SECONDS !== undefined && env.FJORD_SQS_WAIT_SECONDS !== '') {
    waitTimeSeconds = Number(env.FJORD_SQS_WAIT_SECONDS);
    if (!Number.isInteger(waitTimeSeconds) || waitTimeSeconds < 0 || waitTimeSeconds > 20) {
      issues.push(
        `FJORD_SQS_WAIT_SECONDS: a whole number of seconds from 0 to 20, not ${JSON.stringify(env.FJORD_SQS_WAIT_SECONDS)}`,
      );
    }
  }
  // Anyone who can send to the queue could otherwise order a deploy: SQS has no data dir to keep a generated key in.
  const key = queueKeyFromEnv(env);
  if (!key)
    issues.push(
      `${QUEUE_KEY_ENV}: required (every producer and worker of the SQS queue signs and checks messages with it; e.g. \`openssl rand -hex 32\`)`,
    );
  if (issues.length > 0) throw new ConfigError(issues, 'environment');
  return {
    queueUrl: queueUrl!,
    dlqUrl,
    region: region!,
    endpoint,
    waitTimeSeconds,
    credentials: credentialsFromEnv(env),
    key: key!,
  };
}

/** A queue on the SQS FIFO queue the environment names; `extra` adds what the environment does not say. */
export function sqsQueueFromEnv(env: NodeJS.ProcessEnv = process.env, extra: Partial<SqsQueueOptions> = {}): SqsQueue {
  return createSqsQueue({ ...sqsOptionsFromEnv(env), ...extra });
}

function credentialsFromEnv(env: NodeJS.ProcessEnv): SqsQueueOptions['credentials'] {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  if (!accessKeyId || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  // Wrapped, so the keys are masked in any log line they leak into; unwrapped only when the SDK signs.
  const secret = new Secret(env.AWS_SECRET_ACCESS_KEY);
  const token = env.AWS_SESSION_TOKEN ? new Secret(env.AWS_SESSION_TOKEN) : undefined;
  return async () => ({ accessKeyId, secretAccessKey: secret.reveal(), sessionToken: token?.reveal() });
}

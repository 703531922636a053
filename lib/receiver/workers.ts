/**
 * The receiver on Cloudflare Workers: the same Hono app, config from `FJORD_CONFIG_YAML` (a Workers var
 * or secret: Workers have no file system), webhook secrets from Workers secrets (`wrangler secret put`),
 * jobs sent to SQS FIFO over fetch (lib/queue/sqs-fetch.ts). Built once per isolate and kept while the
 * bindings object stays the same.
 *
 * Bindings: FJORD_CONFIG_YAML, FJORD_SQS_QUEUE_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * (an IAM user allowed only sqs:SendMessage on the queue), FJORD_QUEUE_KEY (signs every message), optional FJORD_SQS_ENDPOINT, FJORD_LOG_LEVEL,
 * and the secrets fjord.yaml names (e.g. FJORD_GITLAB_SECRET).
 */
import type { Hono } from 'hono';
import { parseConfig } from '../config/parse.js';
import { webhookSecrets } from '../config/secrets.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { createSqsFetchQueue } from '../queue/sqs-fetch.js';
import { createReceiver } from './app.js';
import type { ReceiverEnv } from './env.js';
import { regionOfQueueUrl } from '../queue/sqs-region.js';
import { queueKeyFromEnv, QUEUE_KEY_ENV } from '../queue/queue-key.js';

export type WorkersBindings = Record<string, unknown>;

const built = new WeakMap<object, Hono<ReceiverEnv>>();

/** The receiver app for these bindings (made on the first request of an isolate). */
export function workersReceiver(bindings: WorkersBindings, logger?: Logger): Hono<ReceiverEnv> {
  let app = built.get(bindings);
  if (!app) {
    app = makeWorkersReceiver(bindings, logger);
    built.set(bindings, app);
  }
  return app;
}

export function makeWorkersReceiver(
  bindings: WorkersBindings,
  logger: Logger = workersLogger(bindings),
): Hono<ReceiverEnv> {
  const { config, env, queue } = workersParts(bindings);
  return createReceiver({ config, secrets: webhookSecrets(config, env), queue, logger });
}

/** Config and the fetch-based SQS queue from the bindings: what the receiver and the cron handler share. */
export function workersParts(bindings: WorkersBindings): {
  config: Config;
  env: Record<string, string | undefined>;
  queue: Queue;
} {
  const env = stringsOf(bindings);
  const missing = [
    'FJORD_CONFIG_YAML',
    'FJORD_SQS_QUEUE_URL',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    QUEUE_KEY_ENV,
  ].filter((k) => !env[k]);
  const region = env.AWS_REGION ?? regionOfQueueUrl(env.FJORD_SQS_QUEUE_URL);
  if (!region) missing.push('AWS_REGION');
  if (missing.length > 0)
    throw new ConfigError(
      missing.map((k) => `${k}: required (wrangler.toml [vars] or \`wrangler secret put ${k}\`)`),
      'Workers bindings',
    );
  const config = parseConfig(env.FJORD_CONFIG_YAML!, 'FJORD_CONFIG_YAML');
  const queue = createSqsFetchQueue({
    queueUrl: env.FJORD_SQS_QUEUE_URL!,
    region: region!,
    endpoint: env.FJORD_SQS_ENDPOINT,
    accessKeyId: env.AWS_ACCESS_KEY_ID!,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
    sessionToken: env.AWS_SESSION_TOKEN,
    key: queueKeyFromEnv(env)!,
  });
  return { config, env, queue };
}

/** JSON lines on console.log: what Workers Logs and `wrangler tail` collect (there is no stderr stream). */
export function workersLogger(bindings: WorkersBindings): Logger {
  const level = stringsOf(bindings).FJORD_LOG_LEVEL;
  return createLogger({ write: (line) => console.log(line), ...(level ? { level: level as 'info' } : {}) });
}

function stringsOf(bindings: WorkersBindings): Record<string, string | undefined> {
  // Service bindings, KV namespaces and the like are objects: only text bindings are configuration.
  return Object.fromEntries(Object.entries(bindings).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
}

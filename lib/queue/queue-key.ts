/**
 * Queue messages are authenticated (issue 12, item 1): anyone who can send to the queue must not be able to
 * order a deploy. Every producer (receiver, reconcile schedule, the worker's own promotions and heals) signs
 * the exact body it queues with HMAC-SHA256 under `FJORD_QUEUE_KEY`; every consumer (embedded worker, SQS
 * poller, Lambda worker) checks the signature before parsing the body, and a message that fails the check is
 * set aside (dead letters / DLQ, with the reason) and never run. Several keys, comma-separated, are
 * accepted for rotation: the first signs, any verifies. Same primitive as the webhook checks
 * (lib/events/verify-standard-webhook.ts): node:crypto, constant-time comparison.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { Secret } from '../secret.js';

export const QUEUE_KEY_ENV = 'FJORD_QUEUE_KEY';
/** SQS message attribute (and journal field) holding `v1=<base64url HMAC-SHA256 of the body>`. */
export const SIGNATURE_ATTRIBUTE = 'fjord-signature';
/** At least 32 characters: e.g. `openssl rand -hex 32`. */
const MIN_KEY_LENGTH = 32;

export class QueueKey {
  readonly #keys: readonly Secret[];
  constructor(keys: readonly Secret[]) {
    if (keys.length === 0) throw new Error('QueueKey needs at least one key');
    this.#keys = keys;
  }

  /** The signature of `body` under the first key. */
  sign(body: string): string {
    return `v1=${mac(this.#keys[0]!, body).toString('base64url')}`;
  }

  /** Undefined when `signature` is `body`'s under one of the keys; otherwise why it is refused. */
  refusal(body: string, signature: string | undefined): string | undefined {
    if (!signature) return `unsigned: no ${SIGNATURE_ATTRIBUTE}`;
    const given = signature.startsWith('v1=') ? Buffer.from(signature.slice(3), 'base64url') : undefined;
    if (given?.length !== 32) return `${SIGNATURE_ATTRIBUTE} is not a v1 HMAC-SHA256 signature`;
    let ok = false;
    for (const key of this.#keys) ok = timingSafeEqual(mac(key, body), given) || ok;
    return ok
      ? undefined
      : `${SIGNATURE_ATTRIBUTE} does not match the body (forged, altered, or signed with another key)`;
  }
}

const mac = (key: Secret, body: string): Buffer => createHmac('sha256', key.reveal()).update(body).digest();

/** The queue key from `FJORD_QUEUE_KEY`, or undefined when the variable is unset; a too-short key is a ConfigError. */
export function queueKeyFromEnv(env: Record<string, string | undefined>): QueueKey | undefined {
  const values = (env[QUEUE_KEY_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (values.length === 0) return undefined;
  const short = values.findIndex((v) => v.length < MIN_KEY_LENGTH);
  if (short >= 0)
    throw new ConfigError(
      [
        `${QUEUE_KEY_ENV}: key ${short + 1} is shorter than ${MIN_KEY_LENGTH} characters (make one with \`openssl rand -hex 32\`)`,
      ],
      'environment',
    );
  return new QueueKey(values.map((v) => new Secret(v)));
}

/** As `queueKeyFromEnv`, but a missing key is a ConfigError: the AWS and Workers run modes have no data dir to keep one in. */
export function requireQueueKey(env: Record<string, string | undefined>, where: string): QueueKey {
  const key = queueKeyFromEnv(env);
  if (!key)
    throw new ConfigError(
      [
        `${QUEUE_KEY_ENV}: required (${where}); the same value for every producer and worker, e.g. \`openssl rand -hex 32\``,
      ],
      'environment',
    );
  return key;
}

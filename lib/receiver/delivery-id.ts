/**
 * The delivery id put in `job.source.deliveryId`: the first well-formed header of `candidates`
 * (GitLab: Idempotency-Key, which is the same across retries and "Resend", then X-Gitlab-Event-UUID;
 * GitHub: X-GitHub-Delivery, the same on "Redeliver"), else a SHA-256 of the body, which is also the
 * same across retries.
 */
import { createHash } from 'node:crypto';

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,200}$/;

/** `sha256:<hex>` of a webhook body: a byte-identical redelivery has the same. */
export const bodyHashOf = (body: Uint8Array): string => `sha256:${createHash('sha256').update(body).digest('hex')}`;

export function deliveryIdOf(candidates: ReadonlyArray<string | undefined>, body: Uint8Array): string {
  for (const value of candidates) if (value !== undefined && DELIVERY_ID.test(value)) return value;
  return bodyHashOf(body);
}

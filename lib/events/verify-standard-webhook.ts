/**
 * GitLab's signed webhooks, which follow the Standard Webhooks spec (https://www.standardwebhooks.com/):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, possibly several
 * space-separated, keyed with the decoded `whsec_<base64>` signing key. A timestamp further than the replay
 * window from our clock (either way) is refused, so a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../secret.js';

export interface SignedHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** `whsec_<base64>` (or bare base64, as the spec's libraries accept) → the HMAC key bytes. */
export function decodeSigningKey(key: string): Buffer {
  return Buffer.from(key.startsWith('whsec_') ? key.slice('whsec_'.length) : key, 'base64');
}

export interface StandardWebhookOptions {
  /** How far `webhook-timestamp` may be from now, in milliseconds. */
  replayWindowMs: number;
}

/** A verifier for `keys` (several during rotation), keys decoded once. No keys: every request fails. */
export function createStandardWebhookVerifier(
  keys: readonly Secret[],
  { replayWindowMs }: StandardWebhookOptions,
): (headers: SignedHeaders, body: Uint8Array, nowMs: number) => VerifyResult {
  const decoded = keys.map((k) => decodeSigningKey(k.reveal())).filter((k) => k.length > 0);
  return ({ id, timestamp, signature }, body, nowMs) => {
    if (decoded.length === 0) return { ok: false, reason: 'no signing key configured' };
    if (!id || !timestamp || !signature)
      return { ok: false, reason: 'webhook-id, webhook-timestamp and webhook-signature are required' };
    if (id.length > 256 || !/^\d{1,12}$/.test(timestamp))
      return { ok: false, reason: 'malformed webhook-id or webhook-timestamp' };
    if (Math.abs(nowMs - Number(timestamp) * 1000) > replayWindowMs)
      return { ok: false, reason: 'webhook-timestamp outside the replay window' };
    const given: Buffer[] = [];
    for (const part of signature.split(' ')) {
      if (part.startsWith('v1,')) given.push(Buffer.from(part.slice(3), 'base64'));
    }
    let ok = false;
    for (const key of decoded) {
      const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
      // A sha256 HMAC is 32 bytes: comparing only equal lengths leaks nothing secret.
      for (const g of given) if (g.length === expected.length && timingSafeEqual(g, expected)) ok = true;
    }
    return ok ? { ok } : { ok: false, reason: 'webhook-signature does not match' };
  };
}

/** Signs like a Standard Webhooks sender (GitLab): used by tests, benchmarks and the curl demo. */
export function signStandardWebhook(key: string, id: string, timestamp: number, body: string | Uint8Array): string {
  const mac = createHmac('sha256', decodeSigningKey(key)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

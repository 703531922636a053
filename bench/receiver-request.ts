/**
 * The benchmark's request: an authenticated ~20 KB GitLab merge-request event (examples/payloads, with a
 * longer description), signed as a Standard Webhook. Every request gets its own merge sha and webhook id,
 * so each one is a new job rather than a dedup hit.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeSigningKey } from '../lib/events/verify-standard-webhook.js';

/** Signing key shared by the server and the load generator (a benchmark value, not a secret). */
export const BENCH_SIGNING_KEY = 'whsec_' + Buffer.alloc(32, 42).toString('base64');
/** `X-Gitlab-Token` of the peers benchmark (bench/peers-webhook.ts), checked by fjord and by adnanh/webhook alike. */
export const BENCH_TOKEN = 'bench-token-' + 'x'.repeat(20);
export const PLACEHOLDER = 'feedface' + '0'.repeat(32);

export function benchBody(size = 20 * 1024): { body: Buffer; shaAt: number } {
  const mr = JSON.parse(
    readFileSync(new URL('../examples/payloads/gitlab-merge-request.json', import.meta.url), 'utf8'),
  );
  mr.object_attributes.merge_commit_sha = PLACEHOLDER;
  const base = Buffer.byteLength(JSON.stringify(mr));
  mr.object_attributes.description += ' The cache warm-up reads every tenant.'.repeat(
    Math.max(0, Math.ceil((size - base) / 38)),
  );
  const body = Buffer.from(JSON.stringify(mr));
  return { body, shaAt: body.indexOf(PLACEHOLDER) };
}

/** A request maker: each call gives a fresh body (sha = counter) and its Standard Webhooks headers. */
export function requestMaker(size?: number): (n: number) => { body: Buffer; headers: Record<string, string> } {
  const { body, shaAt } = benchBody(size);
  const key = decodeSigningKey(BENCH_SIGNING_KEY);
  const pid = process.pid.toString(16).padStart(8, '0');
  return (n) => {
    const copy = Buffer.from(body);
    copy.write(pid + n.toString(16).padStart(32, '0'), shaAt, 'latin1');
    const id = `msg_${pid}_${n}`;
    const ts = Math.floor(Date.now() / 1000);
    const mac = createHmac('sha256', key).update(`${id}.${ts}.`).update(copy).digest('base64');
    return {
      body: copy,
      headers: {
        'content-type': 'application/json',
        'content-length': String(copy.length),
        'x-gitlab-event': 'Merge Request Hook',
        // GitLab sends its delivery id twice: Idempotency-Key, and webhook-id on signed webhooks.
        'idempotency-key': id,
        'x-gitlab-event-uuid': id,
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': `v1,${mac}`,
      },
    };
  };
}

/**
 * A planned delivery as GitLab sends it: a Merge Request Hook (merged) or a Push Hook body built on the
 * documented samples in examples/payloads, `X-Gitlab-Event-UUID` and `Idempotency-Key` carrying the
 * delivery id (the same on a retry), authenticated by the plain token or, as a signed webhook (Standard
 * Webhooks), with the delivery id as `webhook-id` — each with one of the two keys of a rotation.
 */
import { createHash } from 'node:crypto';
import { signStandardWebhook } from '../../lib/events/verify-standard-webhook.js';
import { GITLAB_TOKENS, payload, SIGNING_KEYS } from '../fixtures/receiver.js';
import type { Delivery } from './storm-plan.js';

const mergeSample = payload('gitlab-merge-request');
const pushSample = payload('gitlab-push');

/** GitLab's webhook time format: `2026-11-20 10:05:41 UTC`. */
const gitlabTime = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

export function webhookBody({ event }: Delivery): { kind: string; body: string } {
  if (event.trigger === 'merge') {
    const body = structuredClone(mergeSample);
    body.project.path_with_namespace = event.project;
    Object.assign(body.object_attributes, {
      iid: event.mr,
      action: 'merge',
      state: 'merged',
      target_branch: event.branch,
      merge_commit_sha: event.sha,
      updated_at: gitlabTime(event.time),
    });
    return { kind: 'Merge Request Hook', body: JSON.stringify(body) };
  }
  const body = structuredClone(pushSample);
  body.project.path_with_namespace = event.project;
  Object.assign(body, { ref: `refs/heads/${event.branch}`, after: event.sha, checkout_sha: event.sha });
  body.commits = [
    { ...body.commits[0], id: event.sha, timestamp: new Date(event.time).toISOString().replace('Z', '+00:00') },
  ];
  body.total_commits_count = 1;
  return { kind: 'Push Hook', body: JSON.stringify(body) };
}

/** Body and headers of `delivery`; which secret signs it follows from the delivery id (a retry is signed alike). */
export function webhookRequest(
  delivery: Delivery,
  now = Date.now(),
): { body: string; headers: Record<string, string> } {
  const { kind, body } = webhookBody(delivery);
  const pick = createHash('sha256').update(delivery.deliveryId).digest()[0]!;
  const ids = { 'x-gitlab-event-uuid': delivery.deliveryId, 'idempotency-key': delivery.deliveryId };
  const base = { 'content-type': 'application/json', 'x-gitlab-event': kind, ...ids };
  if (pick % 2 === 0) return { body, headers: { ...base, 'x-gitlab-token': GITLAB_TOKENS[(pick >> 1) % 2]! } };
  const timestamp = Math.floor(now / 1000);
  const signature = signStandardWebhook(SIGNING_KEYS[(pick >> 1) % 2]!, delivery.deliveryId, timestamp, body);
  return {
    body,
    headers: {
      ...base,
      'webhook-id': delivery.deliveryId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    },
  };
}

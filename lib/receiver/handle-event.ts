/**
 * The route handler after size limit, authentication and content type: JSON.parse (400), zod (422),
 * route (200 ignored / 422), enqueue (503) → 202 with the queued jobs. No deploy work happens here.
 */
import type { Handler } from 'hono';
import type { Config } from '../config/schema.js';
import { MalformedPayload, Unauthorized } from '../errors.js';
import { isIgnored, quote, type Ignored, type Provider, type SourceEvent } from '../events/event.js';
import { routeEvent, ROUTES } from '../events/route.js';
import type { Route } from '../events/route-types.js';
import type { Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { refusal } from './credential.js';
import { bodyHashOf, deliveryIdOf } from './delivery-id.js';
import type { DeliveryLog } from './delivery-log.js';
import { enqueueJobs } from './enqueue.js';
import { bodyText, header, type ReceiverContext, type ReceiverEnv } from './env.js';

export interface EventHandlerOptions {
  provider: Provider;
  /** Header naming the event kind: `x-gitlab-event`, `x-github-event`. */
  eventHeader: string;
  /** Whether a body of this kind is parsed at all; other kinds are ignored unread. */
  isRead: (kind: string | undefined) => boolean;
  parse: (kind: string | undefined, payload: unknown) => SourceEvent | Ignored;
  /** Headers that may carry the delivery id, in order of preference. */
  deliveryHeaders: readonly string[];
  config: Config;
  queue: Queue;
  logger: Logger;
  now: () => number;
  routes?: readonly Route[];
  /** Deliveries already queued, remembered for days (embedded mode); a replay queues nothing. */
  deliveries?: DeliveryLog;
  /** Whether an app has a webhook secret of its own (then only that secret may queue its jobs). */
  hasOwnSecret: (app: string) => boolean;
}

export function handleEvent(o: EventHandlerOptions): Handler<ReceiverEnv> {
  const ignore = (c: ReceiverContext, reason: string) => {
    o.logger.debug('webhook ignored', { provider: o.provider, reason });
    return c.json({ ignored: reason }, 200);
  };
  return async (c) => {
    const kind = header(c, o.eventHeader);
    if (!o.isRead(kind)) return ignore(c, `${o.provider} event ${quote(kind ?? 'unknown')} is not one fjord acts on`);
    let payload: unknown;
    try {
      payload = JSON.parse(bodyText(c));
    } catch {
      throw new MalformedPayload('request body is not valid JSON');
    }
    const event = o.parse(kind, payload);
    if (isIgnored(event)) return ignore(c, event.ignored);
    const deliveryId = deliveryIdOf(
      o.deliveryHeaders.map((h) => header(c, h)),
      c.get('body'),
    );
    const routed = routeEvent(event, { config: o.config, deliveryId, now: o.now }, o.routes ?? ROUTES);
    if (isIgnored(routed)) return ignore(c, routed.ignored);
    // All or nothing: a secret that may not queue one of the jobs queues none of them.
    for (const job of routed.jobs) {
      const why = refusal(c.get('credential'), job, o.hasOwnSecret);
      if (why) throw new Unauthorized(why);
    }
    const keys = o.deliveries ? [`${o.provider}:${deliveryId}`, `${o.provider}:${bodyHashOf(c.get('body'))}`] : [];
    if (o.deliveries?.seen(keys)) {
      const queued = routed.jobs.map((j) => ({
        id: j.id,
        app: j.app,
        environment: j.environment,
        tag: j.tag,
        sha: j.sha,
        duplicate: true as const,
      }));
      o.logger.info('webhook replay not queued', { provider: o.provider, deliveryId, jobs: queued });
      return c.json({ queued }, 202);
    }
    const queued = await enqueueJobs(o.queue, routed.jobs);
    o.deliveries?.record(keys);
    o.logger.info('webhook queued', { provider: o.provider, deliveryId, jobs: queued });
    return c.json({ queued }, 202);
  };
}

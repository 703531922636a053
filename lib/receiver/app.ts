/**
 * The stateless webhook receiver (DESIGN.md "Flow"): `POST /hooks/gitlab`, `POST /hooks/github`,
 * `GET /healthz`, and `GET /`: the status page where one is handed in (embedded mode), else a pointer to
 * `fjord status` (serverless receivers cannot reach the hosts). Each hook runs size limit → authenticate →
 * content type → JSON.parse → zod → route → enqueue, and answers 202 `{"queued":[…]}` or 200 `{"ignored":"…"}` (never 4xx for an event fjord merely
 * does not act on: GitLab disables a hook after 4 consecutive 4xx). The same app serves Node, Lambda and
 * Workers; only the body reading has a Node fast path.
 */
import { Hono, type Handler } from 'hono';
import type { Config } from '../config/schema.js';
import type { WebhookSecrets } from '../config/secrets.js';
import { gitlabEventIsRead, parseGitlab } from '../events/parse-gitlab.js';
import { githubEventIsRead, parseGithub } from '../events/parse-github.js';
import type { Route } from '../events/route.js';
import { createLogger, type Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { githubAuth, gitlabAuth } from './authenticate.js';
import type { DeliveryLog } from './delivery-log.js';
import type { ReceiverEnv } from './env.js';
import { handleEvent } from './handle-event.js';
import { bodyLimit, requireJson } from './middleware.js';
import { errorHandler } from './on-error.js';
import { warnMissingSecrets } from './warn-missing-secrets.js';

export interface ReceiverOptions {
  config: Config;
  /** From `webhookSecrets(config, env)` (lib/config/secrets.ts). */
  secrets: WebhookSecrets;
  queue: Queue;
  logger?: Logger;
  now?: () => number;
  /** Largest accepted body; larger ones get 413 before anything parses them. */
  maxBodyBytes?: number;
  /** Event → job routes (default: lib/events/route.ts ROUTES). */
  routes?: readonly Route[];
  /** `GET /` (lib/status-page): only where a worker that can reach the hosts runs beside the receiver. */
  statusPage?: Handler<ReceiverEnv>;
  /** Deliveries already queued (embedded: a file in the data directory); absent, the queue's window alone. */
  deliveries?: DeliveryLog;
}

export const NO_STATUS_PAGE = 'fjord receiver: no status page here. Run `fjord status` where the hosts are reachable, or open GET / of `fjord start` (statusPage.enabled).';

export function createReceiver({
  config,
  secrets,
  queue,
  logger = createLogger(),
  now = Date.now,
  maxBodyBytes = 1024 * 1024,
  routes,
  statusPage,
  deliveries,
}: ReceiverOptions): Hono<ReceiverEnv> {
  warnMissingSecrets(config, secrets, logger);
  const shared = { config, queue, logger, now, ...(routes ? { routes } : {}), ...(deliveries ? { deliveries } : {}) };
  const limit = bodyLimit({ maxBytes: maxBodyBytes });
  const json = requireJson();
  const app = new Hono<ReceiverEnv>();

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/', statusPage ?? ((c) => c.json({ message: NO_STATUS_PAGE })));
  app.post(
    '/hooks/gitlab',
    limit,
    gitlabAuth({
      tokens: secrets.gitlabTokens,
      signingKeys: secrets.gitlabSigningKeys,
      replayWindowMs: config.sources.gitlab?.replayWindow ?? 300_000,
      now,
    }),
    json,
    handleEvent({
      ...shared,
      provider: 'gitlab',
      eventHeader: 'x-gitlab-event',
      isRead: gitlabEventIsRead,
      parse: parseGitlab,
      deliveryHeaders: ['idempotency-key', 'x-gitlab-event-uuid'],
    }),
  );
  app.post(
    '/hooks/github',
    limit,
    githubAuth({ secrets: secrets.githubSecrets }),
    json,
    handleEvent({
      ...shared,
      provider: 'github',
      eventHeader: 'x-github-event',
      isRead: githubEventIsRead,
      parse: parseGithub,
      deliveryHeaders: ['x-github-delivery'],
    }),
  );
  app.notFound((c) => c.json({ error: 'NotFound', message: 'POST /hooks/gitlab or /hooks/github; GET /healthz or /' }, 404));
  app.onError(errorHandler(logger));
  return app;
}

/**
 * The stateless webhook receiver (DESIGN.md "Flow"): `POST /hooks/gitlab`, `POST /hooks/github`,
 * `GET /healthz`, and `GET /`: the status page where one is handed in (embedded mode), else a pointer to
 * `fjord status` (serverless receivers cannot reach the hosts). Each hook runs declared size →
 * authenticate (a token before the body is read; a signature over the body, within a capped number of
 * unauthenticated reads) → content type → JSON.parse → zod → route → the secret may queue these apps → enqueue, and answers 202 `{"queued":[…]}` or 200 `{"ignored":"…"}` (never 4xx for an event fjord merely
 * does not act on: GitLab disables a hook after 4 consecutive 4xx). The same app serves Node, Lambda and
 * Workers; only the body reading has a Node fast path.
 */
import { Hono, type Handler } from 'hono';
import type { Config } from '../config/schema.js';
import type { WebhookSecrets } from '../config/secrets.js';
import { gitlabEventIsRead, parseGitlab } from '../events/parse-gitlab.js';
import { githubEventIsRead, parseGithub } from '../events/parse-github.js';
import type { Route } from '../events/route-types.js';
import { createLogger, type Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { githubAuth, gitlabAuth } from './authenticate.js';
import type { DeliveryLog } from './delivery-log.js';
import type { ReceiverEnv } from './env.js';
import { handleEvent } from './handle-event.js';
import { scopedSecrets } from './credential.js';
import { bodyReader, declaredSize, MAX_HOOK_BODY_BYTES, requireJson } from './middleware.js';
import { readSlots } from './read-slots.js';
import { errorHandler } from './on-error.js';
import { warnMissingSecrets } from './warn-missing-secrets.js';

export interface ReceiverOptions {
  config: Config;
  /** From `webhookSecrets(config, env)` (lib/config/secrets.ts). */
  secrets: WebhookSecrets;
  queue: Queue;
  logger?: Logger;
  now?: () => number;
  /** Largest accepted body (default 25 MiB, the senders' own maximum); larger ones get 413 before anything parses them. */
  maxBodyBytes?: number;
  /** Bodies read at once before their signature is checked (default 16); more get 503 at once. */
  maxUnauthenticatedReads?: number;
  /** Event → job routes (default: lib/events/route.ts ROUTES). */
  routes?: readonly Route[];
  /** `GET /` (lib/status-page): only where a worker that can reach the hosts runs beside the receiver. */
  statusPage?: Handler<ReceiverEnv>;
  /** Deliveries already queued (embedded: a file in the data directory); absent, the queue's window alone. */
  deliveries?: DeliveryLog;
}

export const NO_STATUS_PAGE =
  'fjord receiver: no status page here. Run `fjord status` where the hosts are reachable, or open GET / of `fjord start` (statusPage.enabled).';

export function createReceiver({
  config,
  secrets,
  queue,
  logger = createLogger(),
  now = Date.now,
  maxBodyBytes = MAX_HOOK_BODY_BYTES,
  maxUnauthenticatedReads = 16,
  routes,
  statusPage,
  deliveries,
}: ReceiverOptions): Hono<ReceiverEnv> {
  warnMissingSecrets(config, secrets, logger);
  const own = secrets.apps ?? {};
  const hasOwnSecret = (app: string) =>
    (own[app]?.length ?? 0) > 0 || config.apps[app]?.source.webhookSecretEnv !== undefined;
  const shared = {
    config,
    queue,
    logger,
    now,
    hasOwnSecret,
    ...(routes ? { routes } : {}),
    ...(deliveries ? { deliveries } : {}),
  };
  const limit = declaredSize({ maxBytes: maxBodyBytes });
  // One cap for both hook routes: it bounds the memory unauthenticated bodies can hold.
  const reading = { read: bodyReader({ maxBytes: maxBodyBytes }), slots: readSlots(maxUnauthenticatedReads) };
  const appsOf = (provider: string) =>
    Object.keys(config.apps).filter((a) => config.apps[a]!.source.provider === provider);
  const gitlabTokens = scopedSecrets(secrets.gitlabTokens, own, appsOf('gitlab'));
  const githubSecrets = scopedSecrets(secrets.githubSecrets, own, appsOf('github'));
  const json = requireJson();
  const app = new Hono<ReceiverEnv>();

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/', statusPage ?? ((c) => c.json({ message: NO_STATUS_PAGE })));
  app.post(
    '/hooks/gitlab',
    limit,
    gitlabAuth({
      ...reading,
      tokens: gitlabTokens.secrets,
      scopes: gitlabTokens.scopes,
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
    githubAuth({ ...reading, secrets: githubSecrets.secrets, scopes: githubSecrets.scopes }),
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
  app.notFound((c) =>
    c.json({ error: 'NotFound', message: 'POST /hooks/gitlab or /hooks/github; GET /healthz or /' }, 404),
  );
  app.onError(errorHandler(logger));
  return app;
}

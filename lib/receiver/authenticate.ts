/**
 * Authentication middleware per source, run on the raw body before anything parses it (STYLE.md
 * principle 5). A source with no secret configured refuses every webhook: fjord never runs open.
 */
import type { MiddlewareHandler } from 'hono';
import { Unauthorized } from '../errors.js';
import type { Secret } from '../secret.js';
import { createGitlabTokenVerifier } from '../events/verify-gitlab-token.js';
import { createStandardWebhookVerifier } from '../events/verify-standard-webhook.js';
import { createGithubVerifier } from '../events/verify-github.js';
import { bodyText, header, type ReceiverEnv } from './env.js';

export interface GitlabAuthOptions {
  tokens: readonly Secret[];
  signingKeys: readonly Secret[];
  replayWindowMs: number;
  now: () => number;
}

/**
 * GitLab: a signed webhook (`webhook-signature`, when signing keys are configured) is judged by its
 * signature alone; otherwise `X-Gitlab-Token`. Only signatures carry replay protection: configure signing
 * keys without tokens to require them.
 */
export function gitlabAuth({ tokens, signingKeys, replayWindowMs, now }: GitlabAuthOptions): MiddlewareHandler<ReceiverEnv> {
  const verifyToken = createGitlabTokenVerifier(tokens);
  const verifySigned = createStandardWebhookVerifier(signingKeys, { replayWindowMs });
  return async (c, next) => {
    if (tokens.length === 0 && signingKeys.length === 0) {
      throw new Unauthorized('no GitLab webhook secret is configured: every GitLab webhook is refused');
    }
    const signature = header(c, 'webhook-signature');
    if (signature !== undefined && signingKeys.length > 0) {
      const result = verifySigned(
        { id: header(c, 'webhook-id'), timestamp: header(c, 'webhook-timestamp'), signature },
        c.get('body'),
        now(),
      );
      if (!result.ok) throw new Unauthorized(`signed webhook refused: ${result.reason}`);
    } else if (!verifyToken(header(c, 'x-gitlab-token'))) {
      throw new Unauthorized(tokens.length > 0 ? 'X-Gitlab-Token missing or wrong' : 'a signed webhook (webhook-signature) is required');
    }
    await next();
  };
}

/** GitHub: `X-Hub-Signature-256` over the body, any of the configured secrets. */
export function githubAuth({ secrets }: { secrets: readonly Secret[] }): MiddlewareHandler<ReceiverEnv> {
  const verify = createGithubVerifier(secrets);
  return async (c, next) => {
    if (secrets.length === 0) throw new Unauthorized('no GitHub webhook secret is configured: every GitHub webhook is refused');
    if (!(await verify(bodyText(c), header(c, 'x-hub-signature-256')))) throw new Unauthorized('X-Hub-Signature-256 missing or wrong');
    await next();
  };
}

/**
 * Authentication middleware per source (STYLE.md principle 5), which also reads the body, in the order
 * that makes an unauthenticated request cheap (issue 12, item 6): a plain `X-Gitlab-Token` is checked on
 * the headers, before a byte of the body is read, so a wrong token is answered 401 at once even when the
 * client stalls its upload. A signature can only be checked on the body: such bodies are read within a
 * capped number of read slots (read-slots.ts), 503 past it. A source with no secret configured refuses
 * every webhook: fjord never runs open. The matched secret's scope (credential.ts) is kept for routing.
 */
import type { MiddlewareHandler } from 'hono';
import { Unauthorized } from '../errors.js';
import type { Secret } from '../secret.js';
import { createGitlabTokenMatcher } from '../events/verify-gitlab-token.js';
import { createStandardWebhookVerifier } from '../events/verify-standard-webhook.js';
import { createGithubMatcher } from '../events/verify-github.js';
import { credentialOf } from './credential.js';
import { bodyText, header, type ReceiverContext, type ReceiverEnv } from './env.js';
import type { ReadSlots } from './read-slots.js';

export interface BodyReading {
  /** Reads the body into `c.var.body` within the size limit (middleware.ts readBody). */
  read: (c: ReceiverContext) => Promise<void>;
  /** Caps bodies read before their request is authenticated. */
  slots: ReadSlots;
}

export interface GitlabAuthOptions extends BodyReading {
  /** Shared and per-app tokens (credential.ts scopedSecrets); `scopes[i]` is the app of `tokens[i]`, '' shared. */
  tokens: readonly Secret[];
  scopes: readonly string[];
  /** Shared signing keys only: a signed webhook speaks for the apps without a secret of their own. */
  signingKeys: readonly Secret[];
  replayWindowMs: number;
  now: () => number;
}

/** Reads the body while holding a read slot (the request is not authenticated yet). */
async function readUnauthenticated(
  c: ReceiverContext,
  { read, slots }: BodyReading,
  verify: () => Promise<void> | void,
): Promise<void> {
  const release = slots.acquire();
  try {
    await read(c);
    await verify();
  } finally {
    release();
  }
}

/**
 * GitLab: a signed webhook (`webhook-signature`, when signing keys are configured) is judged by its
 * signature alone; otherwise `X-Gitlab-Token`. Only signatures carry replay protection: configure signing
 * keys without tokens to require them.
 */
export function gitlabAuth(o: GitlabAuthOptions): MiddlewareHandler<ReceiverEnv> {
  const matchToken = createGitlabTokenMatcher(o.tokens);
  const verifySigned = createStandardWebhookVerifier(o.signingKeys, { replayWindowMs: o.replayWindowMs });
  return async (c, next) => {
    if (o.tokens.length === 0 && o.signingKeys.length === 0) {
      throw new Unauthorized('no GitLab webhook secret is configured: every GitLab webhook is refused');
    }
    const signature = header(c, 'webhook-signature');
    if (signature !== undefined && o.signingKeys.length > 0) {
      await readUnauthenticated(c, o, () => {
        const result = verifySigned(
          { id: header(c, 'webhook-id'), timestamp: header(c, 'webhook-timestamp'), signature },
          c.get('body'),
          o.now(),
        );
        if (!result.ok) throw new Unauthorized(`signed webhook refused: ${result.reason}`);
      });
      c.set('credential', { shared: true, apps: new Set() });
    } else {
      const matched = matchToken(header(c, 'x-gitlab-token'));
      if (matched.length === 0) {
        throw new Unauthorized(
          o.tokens.length > 0 ? 'X-Gitlab-Token missing or wrong' : 'a signed webhook (webhook-signature) is required',
        );
      }
      c.set('credential', credentialOf(matched, o.scopes));
      await o.read(c);
    }
    await next();
  };
}

export interface GithubAuthOptions extends BodyReading {
  secrets: readonly Secret[];
  scopes: readonly string[];
}

/** GitHub: `X-Hub-Signature-256` over the body, any of the configured secrets (shared or an app's own). */
export function githubAuth(o: GithubAuthOptions): MiddlewareHandler<ReceiverEnv> {
  const match = createGithubMatcher(o.secrets);
  return async (c, next) => {
    if (o.secrets.length === 0)
      throw new Unauthorized('no GitHub webhook secret is configured: every GitHub webhook is refused');
    const signature = header(c, 'x-hub-signature-256');
    // Not even a slot for a request that cannot be signed.
    if (!signature?.startsWith('sha256=')) throw new Unauthorized('X-Hub-Signature-256 missing or wrong');
    await readUnauthenticated(c, o, async () => {
      const matched = await match(bodyText(c), signature);
      if (matched.length === 0) throw new Unauthorized('X-Hub-Signature-256 missing or wrong');
      c.set('credential', credentialOf(matched, o.scopes));
    });
    await next();
  };
}

/**
 * The one @octokit/rest client fjord's GitHub writers use. The token goes as `Authorization: Bearer`
 * (docs.github.com/en/rest/authentication/authenticating-to-the-rest-api), set in a `request` hook for
 * each request and never stored on the client; fetch drops it when a redirect leaves the origin. The token
 * is a `Secret` read per request, or a GitHub App's installation token, made from the app's private key by
 * @octokit/auth-app (docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation),
 * which caches it until shortly before it expires; each one is registered as a Secret, so logs mask it.
 * Each request has a deadline. A failed request becomes a `GithubApiError` carrying only the HTTP status
 * and GitHub's message (as `cause.response.status`, the shape notifier.ts and run-plan.ts log): never the
 * request, its headers or the token.
 */
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import type { Config } from '../config/schema.js';
import { secretValue } from '../config/secrets.js';
import type { Logger } from '../log.js';
import { Secret } from '../secret.js';

export class GithubApiError extends Error {
  override readonly name = 'GithubApiError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message, { cause: { response: { status } } });
  }
}

/** A token, or a GitHub App installation (app id, installation id, the app's private key in PEM, PKCS#1 or #8). */
export type GithubCredentials = { token: Secret } | { app: { id: number; installationId: number; privateKey: Secret } };

export interface GithubClientOptions {
  /** REST API root: `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  url: string;
  credentials: GithubCredentials;
  logger?: Logger;
  timeoutMs?: number;
}

export function githubClient({ url, credentials, logger, timeoutMs = 10_000 }: GithubClientOptions): Octokit {
  const quiet = () => {};
  const options = {
    baseUrl: url.replace(/\/+$/, ''),
    userAgent: 'fjord',
    // Octokit warns of deprecations through `log.warn`: into fjord's log, not the console.
    log: {
      debug: quiet,
      info: quiet,
      warn: (m: string) => logger?.warn('GitHub client', { message: m }),
      error: (m: string) => logger?.error('GitHub client', { message: m }),
    },
    request: {
      fetch: (input: string | URL, init?: RequestInit) =>
        fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    },
  };
  const octokit = new Octokit(options);
  const token =
    'token' in credentials
      ? async () => credentials.token.reveal()
      : installationToken(credentials.app, new Octokit(options).request);
  octokit.hook.before('request', async (o) => {
    o.headers.authorization = `Bearer ${await token()}`;
  });
  octokit.hook.error('request', (err) => {
    const status = (err as { status?: unknown }).status;
    // A RequestError's message is GitHub's `message` and its docs link; a transport error's is fetch's.
    throw new GithubApiError(
      `GitHub API: ${String((err as Error).message)
        .split('\n')[0]!
        .slice(0, 300)}`,
      typeof status === 'number' && status > 0 ? status : undefined,
    );
  });
  return octokit;
}

/** Installation tokens of `app`, through its own hook-less client (the token request carries the app's JWT). */
function installationToken(
  app: { id: number; installationId: number; privateKey: Secret },
  request: Octokit['request'],
): () => Promise<string> {
  const auth = createAppAuth({
    appId: app.id,
    installationId: app.installationId,
    privateKey: app.privateKey.reveal(),
    request,
  });
  const seen = new Set<string>();
  return async () => {
    const { token } = await auth({ type: 'installation' });
    if (!seen.has(token)) {
      seen.add(token);
      new Secret(token); // registered with the scrubber: a token quoted anywhere in a log line is masked
    }
    return token;
  };
}

/**
 * The GitHub client `sources.github` asks for: a token from `tokenEnv`, or installation tokens of `app`.
 * Undefined, with a warning naming the variable (never its value), when that variable is not set.
 */
export function githubClientFromConfig(config: Config, env: NodeJS.ProcessEnv, logger?: Logger): Octokit | undefined {
  const github = config.sources.github;
  const variable = github?.app?.privateKeyEnv ?? github?.tokenEnv;
  if (!github || !variable) return undefined;
  const secret = secretValue(env, variable);
  if (!secret) {
    logger?.warn('GitHub feedback off: token variable not set', { variable });
    return undefined;
  }
  const credentials: GithubCredentials = github.app
    ? { app: { id: github.app.id, installationId: github.app.installationId, privateKey: secret } }
    : { token: secret };
  return githubClient({ url: github.url, credentials, ...(logger ? { logger } : {}) });
}

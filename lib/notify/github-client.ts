/**
 * The one @octokit/rest client fjord's GitHub writers use. The token goes as `Authorization: Bearer`
 * (docs.github.com/en/rest/authentication/authenticating-to-the-rest-api), read from its `Secret` in a
 * `request` hook for each request and never stored on the client; fetch drops it when a redirect leaves
 * the origin. Each request has a deadline. A failed request becomes a `GithubApiError` carrying only the
 * HTTP status and GitHub's message (as `cause.response.status`, the shape notifier.ts and run-plan.ts log):
 * never the request, its headers or the token.
 */
import { Octokit } from '@octokit/rest';
import type { Logger } from '../log.js';
import type { Secret } from '../secret.js';

export class GithubApiError extends Error {
  override readonly name = 'GithubApiError';
  constructor(message: string, readonly status: number | undefined) {
    super(message, { cause: { response: { status } } });
  }
}

export interface GithubClientOptions {
  /** REST API root: `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  url: string;
  token: Secret;
  logger?: Logger;
  timeoutMs?: number;
}

export function githubClient({ url, token, logger, timeoutMs = 10_000 }: GithubClientOptions): Octokit {
  const quiet = () => {};
  const octokit = new Octokit({
    baseUrl: url.replace(/\/+$/, ''),
    userAgent: 'fjord',
    // Octokit warns of deprecations through `log.warn`: into fjord's log, not the console.
    log: { debug: quiet, info: quiet, warn: (m: string) => logger?.warn('GitHub client', { message: m }), error: (m: string) => logger?.error('GitHub client', { message: m }) },
    request: { fetch: (input: string | URL, init?: RequestInit) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }) },
  });
  octokit.hook.before('request', (options) => {
    options.headers.authorization = `Bearer ${token.reveal()}`;
  });
  octokit.hook.error('request', (err) => {
    const status = (err as { status?: unknown }).status;
    // A RequestError's message is GitHub's `message` and its docs link; a transport error's is fetch's.
    throw new GithubApiError(`GitHub API: ${String((err as Error).message).split('\n')[0]!.slice(0, 300)}`, typeof status === 'number' && status > 0 ? status : undefined);
  });
  return octokit;
}

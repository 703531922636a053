/**
 * The options every @gitbeaker/rest resource of fjord is made with. The token goes as OAuth-style
 * `Authorization: Bearer` (GitLab takes personal, project and group access tokens so:
 * docs.gitlab.com/api/rest/authentication/#personalprojectgroup-access-tokens), not as `PRIVATE-TOKEN`:
 * fetch removes `Authorization` when a redirect leaves the origin (Fetch standard, HTTP-redirect fetch
 * step 13), and keeps any other header, so a `PRIVATE-TOKEN` would follow a redirect to another host.
 */
import type { Secret } from './secret.js';

export interface GitlabClientOptions {
  host: string;
  /** Read per request; the raw value is never stored on a client object. */
  oauthToken: () => Promise<string>;
  queryTimeout: number;
}

export const gitlabClientOptions = ({
  host,
  token,
  timeoutMs,
}: {
  host: string;
  token: Secret;
  timeoutMs: number;
}): GitlabClientOptions => ({
  host: host.replace(/\/+$/, ''),
  oauthToken: async () => token.reveal(),
  queryTimeout: timeoutMs,
});

/** The HTTP status of a failed gitbeaker call (its error's `cause.response`), or undefined. */
export const gitlabStatusOf = (err: unknown): number | undefined =>
  (err as { cause?: { response?: { status?: number } } } | undefined)?.cause?.response?.status;

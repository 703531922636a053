/**
 * What a webhook claims about its source, as the worker asks the platform's API to confirm it (issue 12,
 * item 4; confirm-source.ts): the commit is on the branch (or git tag) deployed from, and a merge event's
 * MR/PR is merged as that commit. The answer is one of three: confirmed (nothing thrown), refused
 * (`SourceRefused`: the job fails with its reason, nothing committed) or not known yet (`RetryableError`:
 * the API could not answer, the job goes back to the queue).
 */
import { RetryableError } from './outcome.js';

export interface SourceClaim {
  provider: 'gitlab' | 'github';
  /** fjord.yaml's `apps.<app>.source.project`. */
  project: string;
  sha: string;
  ref: string;
  refKind: 'branch' | 'tag';
  /** A merge event's MR (GitLab iid) or PR number: it must be merged into `ref` as `sha`. */
  mr?: number;
}

/** One platform's answers. Each throws `SourceRefused` or `RetryableError` when it cannot say yes. */
export interface SourceApi {
  /** Resolves when the API agrees with `claim`. */
  confirm(claim: SourceClaim): Promise<void>;
  /** The commit the claim's branch points at now. */
  head(claim: SourceClaim): Promise<string>;
}

/** The platform's API contradicts the webhook (or refuses to say): the job is refused, never retried. */
export class SourceRefused extends Error {
  override readonly name = 'SourceRefused';
}

const PROVIDER_NAMES = { gitlab: 'GitLab', github: 'GitHub' } as const;
export const providerName = (claim: Pick<SourceClaim, 'provider'>): string => PROVIDER_NAMES[claim.provider];

/** A value from an API answer, quoted and cut short for a message. */
export const quoted = (value: unknown): string => JSON.stringify(String(value)).slice(0, 80);

/**
 * A failed API call while confirming `what`: no answer, 429 or 5xx is transient (the job is retried);
 * any other status (401, 403, 404, …) is an answer, and the job is refused naming the project and the
 * status. `detail` is the platform's own message (never the request, which carries the token).
 */
export function failedCall(claim: SourceClaim, what: string, status: number | undefined, detail: string): never {
  const name = providerName(claim);
  const text = detail.split('\n')[0]!.slice(0, 200);
  if (status === undefined || status === 429 || status >= 500) {
    throw new RetryableError(
      `${name} API could not confirm ${what} of project ${claim.project} (${status ?? 'no answer'}): ${text}`,
      15,
    );
  }
  const hint =
    status === 401 || status === 403
      ? ` (can the ${claim.provider === 'gitlab' ? 'sources.gitlab.tokenEnv' : 'sources.github'} token read project ${claim.project}?)`
      : '';
  throw new SourceRefused(`${name} answered ${status} for ${what} of project ${claim.project}: ${text}${hint}`);
}

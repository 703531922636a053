/**
 * Named registry errors. Messages name the registry, repository and tag, never a credential, a token or an
 * Authorization header: they end up in job reports, MR notes and logs.
 */
import { FjordError } from '../errors.js';

/** Base class; `retryable` says whether waiting and asking again can help. */
export class RegistryError extends FjordError {
  readonly retryable: boolean = false;
}

/** The image name or tag fails its grammar: rejected before any request is made. */
export class InvalidImageReference extends RegistryError {
  override status = 422;
}

/** Network failure, timeout, 5xx or 429 from the registry or its token realm: worth another try. */
export class RegistryUnavailable extends RegistryError {
  override readonly retryable = true;
}

/** The registry (or its token realm) refused our credentials, or we have none and it wants some. */
export class RegistryAuthFailed extends RegistryError {
  override status = 502;
}

/** `image:tag` did not appear in the registry before the deadline. */
export class ImageNotFound extends RegistryError {
  override status = 404;
  constructor(
    readonly image: string,
    readonly tag: string,
    readonly waitedMs: number,
    readonly checks: number,
    lastError?: Error,
  ) {
    const also = lastError ? `; last registry error: ${lastError.message}` : '';
    super(
      `image ${image}:${tag} not found in the registry after waiting ${formatWait(waitedMs)} (${checks} checks)${also}`,
      {
        cause: lastError,
      },
    );
  }
}

/** `15m0s`, `42s`, `1.5s`: how long a wait took, for people. */
export function formatWait(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms / 100) / 10}s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

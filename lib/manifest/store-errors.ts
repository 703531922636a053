/**
 * Named errors of the `ManifestStore` backends. Both backends (GitLab API, git CLI) turn their transport
 * failures into these at the edge, so the worker never reads gitbeaker's or git's message text.
 */
import { FjordError } from '../errors.js';

/**
 * The file changed on the branch since it was read (GitLab answers 400 "You are attempting to update a file
 * that has changed since you started editing it."; git rejects the push). Re-read, re-apply, retry.
 */
export class ManifestConflict extends FjordError {
  override status = 409;
  constructor(
    readonly file: string,
    detail = 'it changed on the branch since it was read',
  ) {
    super(`manifest ${file}: ${detail}`);
  }
}

/** The file (or the branch, or the commit asked for) does not exist in the manifest repository. */
export class ManifestNotFound extends FjordError {
  override status = 404;
  constructor(
    readonly file: string,
    detail = 'not found',
  ) {
    super(`manifest ${file}: ${detail}`);
  }
}

/**
 * Anything else the backend could not do: unreachable server, refused token, rejected push, git failure.
 * `transient` says a later attempt may succeed (network, timeout, 5xx); a refused token or a protected
 * branch will not fix itself.
 */
export class ManifestStoreError extends FjordError {
  override status = 502;
  readonly transient: boolean;
  constructor(message: string, { transient = false }: { transient?: boolean } = {}) {
    super(message);
    this.transient = transient;
  }
}

/** A commit message template or value that cannot go into a commit message (unknown placeholder, newline). */
export class InvalidCommitMessage extends FjordError {
  override status = 422;
}

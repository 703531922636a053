/**
 * Named errors of manifest tag edits. Each message names the file location it is about (a dotted path,
 * a container, a service), so a CI log or a job report says what to fix without reading the code.
 */
import { FjordError } from '../errors.js';

/** The manifest is not valid YAML (or has duplicate keys): nothing can be edited safely. */
export class ManifestInvalid extends FjordError {
  override status = 422;
  constructor(readonly problems: string[]) {
    super(`manifest is not valid YAML:\n  ${problems.join('\n  ')}`);
  }
}

/** Nothing in the manifest matches the target (`what` names the path, container, service or image). */
export class ManifestTargetNotFound extends FjordError {
  override status = 422;
  constructor(
    readonly what: string,
    hint?: string,
  ) {
    super(`${what}: not found in the manifest${hint ? ` (${hint})` : ''}`);
  }
}

/** The target matches more than one place: fjord never edits a second match silently (the `sed` trap). */
export class ManifestTargetAmbiguous extends FjordError {
  override status = 422;
  constructor(
    readonly what: string,
    readonly matches: string[],
    hint?: string,
  ) {
    super(`${what}: matches ${matches.length} places (${matches.join(', ')})${hint ? `; ${hint}` : ''}`);
  }
}

/** The target exists but cannot be edited byte-exactly or meaningfully (an alias, a digest, a variable…). */
export class ManifestTargetUnsupported extends FjordError {
  override status = 422;
  constructor(
    readonly what: string,
    reason: string,
  ) {
    super(`${what}: ${reason}`);
  }
}

/** The new tag fails the tag grammar (`TAG` in lib/grammar.ts); the value is shown JSON-quoted. */
export class InvalidTag extends FjordError {
  override status = 422;
  constructor(readonly tag: string) {
    super(
      `${JSON.stringify(tag.length > 140 ? tag.slice(0, 140) + '…' : tag)} is not a valid image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`,
    );
  }
}

/** A manifest file on disk could not be read or written (missing, a directory, no permission). */
export class ManifestFileError extends FjordError {}

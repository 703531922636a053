/**
 * The image tag a git ref name becomes (issue 12, item 13): every character outside the OCI tag alphabet
 * `[A-Za-z0-9_.-]` turns into `-` — `v1.0.0+build.5` → `v1.0.0-build.5`, `release/2024-01` →
 * `release-2024-01`. Used for pushed git tags and for `{branch}` in tag templates. A name that still is
 * no tag (it starts with `.` or `-`, or is over 128 characters) has no image tag: undefined.
 */
import { TAG } from '../grammar.js';

export function imageTagOfRef(name: string): string | undefined {
  const tag = name.replace(/[^A-Za-z0-9_.-]/g, '-');
  return TAG.test(tag) ? tag : undefined;
}

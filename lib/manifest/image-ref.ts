/**
 * Image references as they appear in manifests: `[registry[:port]/]path[:tag][@digest]`. Splitting keeps
 * offsets into the original string, so an edit can replace exactly the tag's characters.
 */

export interface ImageRef {
  /** Everything before the tag: registry and path. */
  name: string;
  tag?: string;
  digest?: string;
  /** Offset of the tag's first character; without a tag, where `:tag` would be inserted. */
  tagStart: number;
  tagEnd: number;
}

/** Split `value` into name, tag and digest. A colon counts as a tag separator only after the last `/`. */
export function splitImageRef(value: string): ImageRef {
  const at = value.indexOf('@');
  const beforeDigest = at === -1 ? value : value.slice(0, at);
  const digest = at === -1 ? undefined : value.slice(at + 1);
  const slash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', slash + 1);
  if (colon === -1) return { name: beforeDigest, digest, tagStart: beforeDigest.length, tagEnd: beforeDigest.length };
  return {
    name: beforeDigest.slice(0, colon),
    tag: beforeDigest.slice(colon + 1),
    digest,
    tagStart: colon + 1,
    tagEnd: beforeDigest.length,
  };
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Canonical form for comparing names: Docker Hub's `nginx`, `library/nginx`, `docker.io/library/nginx` are one. */
export function normalizeImageName(name: string): string {
  const parts = name.toLowerCase().split('/');
  const first = parts[0] ?? '';
  const hasDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain && !DOCKER_HUB.has(first)) return parts.join('/');
  const path = hasDomain ? parts.slice(1) : parts;
  return (path.length === 1 ? ['library', ...path] : path).join('/');
}

/** Whether two image names (no tags) name the same repository. */
export const sameImage = (a: string, b: string): boolean => normalizeImageName(a) === normalizeImageName(b);

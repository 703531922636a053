/**
 * Where an image lives, per distribution/reference's normalisation (normalize.go `splitDockerDomain`):
 * the first path component is a registry host only if it contains `.` or `:`, is `localhost`, or has an
 * upper-case letter; otherwise the image is on Docker Hub, where one-component names live under `library/`.
 */
import { imageSchema, tagSchema } from '../grammar.js';
import { InvalidImageReference } from './errors.js';

export interface ImageRef {
  image: string;
  tag: string;
}

export interface ImageLocation {
  /** Registry host as written in image names and in `registries[].host` (`docker.io` for Docker Hub). */
  registry: string;
  /** host[:port] that serves the API (`registry-1.docker.io` for Docker Hub). */
  apiHost: string;
  /** Repository path inside the registry (`library/nginx`). */
  repository: string;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);

/** The canonical spelling of a registry host, so `index.docker.io` and `docker.io` find one credential. */
export function canonicalRegistry(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** Checks `image` and `tag` against their grammars; throws InvalidImageReference naming what is wrong. */
export function checkImageRef(ref: ImageRef): ImageRef {
  const image = imageSchema.safeParse(ref.image);
  if (!image.success)
    throw new InvalidImageReference(
      `image ${JSON.stringify(String(ref.image).slice(0, 300))}: ${image.error.issues[0]?.message}`,
    );
  const tag = tagSchema.safeParse(ref.tag);
  if (!tag.success)
    throw new InvalidImageReference(
      `tag ${JSON.stringify(String(ref.tag).slice(0, 300))}: ${tag.error.issues[0]?.message}`,
    );
  return { image: image.data, tag: tag.data };
}

/** Splits a checked image name into registry, API host and repository. */
export function locateImage(image: string): ImageLocation {
  const slash = image.indexOf('/');
  const first = slash === -1 ? '' : image.slice(0, slash);
  const isHost = first !== '' && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  const registry = isHost ? canonicalRegistry(first) : DOCKER_HUB;
  let repository = isHost ? image.slice(slash + 1) : image;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, apiHost: registry === DOCKER_HUB ? 'registry-1.docker.io' : first, repository };
}

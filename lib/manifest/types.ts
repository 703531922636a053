/** Shapes shared by the per-format tag locators and the `bumpTag` / `readTag` entry points. */
import type { Scalar } from 'yaml';
import type { ManifestTarget } from '../config/schema.js';

export const FORMATS = ['helm', 'kustomize', 'compose', 'k8s'] as const;
export type ManifestFormat = (typeof FORMATS)[number];

/**
 * What to edit: the config's `ManifestTarget` (`file` optional here; when given it helps format detection).
 * helm: `path` (default `image.tag`) or `image` (matches `repository`); kustomize: `image` (`images[name=…]`);
 * compose: `service` and/or `image`; k8s: `container` (`name` or `workload/name`) and/or `image`.
 * `path` works for every format as an explicit location (`spec.template.spec.containers[name=api].image`).
 */
export type TagTarget = Omit<ManifestTarget, 'file'> & { file?: string };

/**
 * Where a tag lives: a scalar node, and whether the tag is the whole value (`tag: 1.2`) or the part after
 * the colon of an image reference (`image: repo:1.2`). `where` names it for messages.
 */
export interface TagSite {
  node: Scalar;
  kind: 'tag' | 'reference';
  where: string;
}

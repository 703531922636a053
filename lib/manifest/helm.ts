/**
 * Helm `values.yaml`: the tag is at a dotted path (default `image.tag`), or found by image name: the one
 * image block whose `repository` (with `registry`, Bitnami style) is the image, or the one `image: repo:tag`
 * string naming it.
 */
import { isMap, isScalar } from 'yaml';
import { ManifestTargetAmbiguous, ManifestTargetNotFound } from './errors.js';
import { sameImage, splitImageRef } from './image-ref.js';
import { blockImage, locateByPath, siteOfBlock } from './locate-by-path.js';
import { describeIn, type ManifestDocument } from './parse-manifest.js';
import { pairOf, scalarText } from './path.js';
import type { TagSite, TagTarget } from './types.js';
import { walk } from './walk.js';

export const DEFAULT_HELM_PATH = 'image.tag';

/** Locate the tag in Helm values. */
export function locateHelmTag(docs: ManifestDocument[], target: TagTarget): TagSite {
  if (target.path || !target.image) return locateByPath(docs, target.path ?? DEFAULT_HELM_PATH, target.image);
  const image = target.image;
  const wanted = splitImageRef(image).name;
  const found: TagSite[] = [];
  docs.forEach((doc, i) => {
    walk(doc.contents, (node, trail) => {
      if (!isMap(node)) return;
      const name = blockImage(node);
      if (name && sameImage(name, wanted))
        return void found.push(siteOfBlock(node, describeIn(docs, i, trail || '(top level)')));
      const ref = pairOf(node, 'image')?.value;
      const text = isScalar(ref) ? scalarText(ref) : undefined;
      if (isScalar(ref) && typeof ref.value === 'string' && text && sameImage(splitImageRef(text).name, wanted)) {
        found.push({ node: ref, kind: 'reference', where: describeIn(docs, i, trail ? `${trail}.image` : 'image') });
      }
    });
  });
  if (found.length > 1)
    throw new ManifestTargetAmbiguous(
      `image ${image}`,
      found.map((f) => f.where),
      'give the dotted path with --path',
    );
  if (found.length === 0)
    throw new ManifestTargetNotFound(
      `image ${image}`,
      'no image block with this repository and no image: reference to it',
    );
  return found[0]!;
}

/**
 * An explicit dotted path, in any format: the node it names is either the tag (`image.tag`), an image
 * reference whose tag part is edited (`services.api.image`, `…containers[name=api].image`), or a Helm-style
 * image block with a `tag` key (`image`).
 */
import { isMap, isScalar } from 'yaml';
import { ManifestTargetAmbiguous, ManifestTargetNotFound, ManifestTargetUnsupported } from './errors.js';
import { sameImage, splitImageRef } from './image-ref.js';
import { describeIn, type ManifestDocument } from './parse-manifest.js';
import { followPath, pairOf, parsePath, scalarText } from './path.js';
import type { TagSite } from './types.js';

/** Full image name of a Helm image block: `registry` + `repository`, or `repository` alone. */
export function blockImage(block: unknown): string | undefined {
  if (!isMap(block)) return undefined;
  const repository = scalarText(pairOf(block, 'repository')?.value);
  const registry = scalarText(pairOf(block, 'registry')?.value);
  if (!repository) return undefined;
  return registry ? `${registry}/${repository}` : repository;
}

/** A scalar holds an image reference (rather than a bare tag) when it has a `/` or `:`, which tags never do. */
export function siteOfScalar(node: unknown, where: string, image?: string): TagSite {
  if (!isScalar(node)) throw new ManifestTargetUnsupported(where, 'is not a scalar value');
  const text = scalarText(node) ?? '';
  if (!/[/:]/.test(text)) return { node, kind: 'tag', where };
  if (image && !sameImage(splitImageRef(text).name, splitImageRef(image).name)) {
    throw new ManifestTargetNotFound(`${where} (image ${image})`, `it holds ${splitImageRef(text).name}`);
  }
  return { node, kind: 'reference', where };
}

/** The tag site of a Helm image block (`{repository, tag}`), checking the image name when one is given. */
export function siteOfBlock(block: unknown, where: string, image?: string): TagSite {
  const name = blockImage(block);
  if (image && name && !sameImage(name, splitImageRef(image).name)) {
    throw new ManifestTargetNotFound(`${where} (image ${image})`, `its repository is ${name}`);
  }
  const tag = isMap(block) ? pairOf(block, 'tag') : undefined;
  if (!tag) throw new ManifestTargetNotFound(`${where}.tag`, 'the image block has no tag key');
  return siteOfScalar(tag.value, `${where}.tag`);
}

/** Resolve `target.path` in every document; exactly one document may hold it. */
export function locateByPath(docs: ManifestDocument[], path: string, image?: string): TagSite {
  const segments = parsePath(path);
  const found: TagSite[] = [];
  const missing: string[] = [];
  docs.forEach((doc, i) => {
    const hit = followPath(doc.contents, segments, path);
    if (!hit.node) return void missing.push(hit.missing!);
    const where = describeIn(docs, i, path);
    found.push(isMap(hit.node) ? siteOfBlock(hit.node, where, image) : siteOfScalar(hit.node, where, image));
  });
  if (found.length > 1) throw new ManifestTargetAmbiguous(path, found.map((f) => f.where), 'the path exists in several documents');
  if (found.length === 0) throw new ManifestTargetNotFound(path, docs.length === 1 ? missing[0] : `in none of ${docs.length} documents`);
  return found[0]!;
}

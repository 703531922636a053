/**
 * An explicit dotted path, in any format: the node it names is either the tag (`image.tag`), an image
 * reference whose tag part is edited (`services.api.image`, `…containers[name=api].image`), or a Helm-style
 * image block with a `tag` key (`image`).
 */
import { isMap, isScalar } from 'yaml';
import { ManifestTargetAmbiguous, ManifestTargetNotFound, ManifestTargetUnsupported } from './errors.js';
import { sameImage, splitImageRef } from './image-ref.js';
import { describeIn, type ManifestDocument } from './parse-manifest.js';
import { followPath, pairOf, parsePath, scalarText, valueText } from './path.js';
import type { TagSite } from './types.js';

/**
 * Full image name of a Helm image block: `registry` + `repository` (Bitnami), `repository` alone, or an
 * `image` string beside a `tag` key (`{image: acme/api, tag: 1.2}`). A `null` or empty registry is no registry.
 */
export function blockImage(block: unknown): string | undefined {
  if (!isMap(block)) return undefined;
  const image = pairOf(block, 'tag') ? valueText(pairOf(block, 'image')?.value) : undefined;
  const repository = valueText(pairOf(block, 'repository')?.value) ?? (image && splitImageRef(image).name);
  const registry = valueText(pairOf(block, 'registry')?.value);
  if (!repository) return undefined;
  return registry ? `${registry}/${repository}` : repository;
}

// Keys that name the image rather than its tag: a path ending in one of them must not be overwritten by a tag.
const NAME_KEYS = new Set(['repository', 'registry', 'name', 'newName', 'digest', 'pullPolicy']);

/**
 * The tag site of a scalar. It holds an image reference (whose tag part is edited) when it has a `/` or
 * `:`, which tags never do, or when its key is `image`: `image: mongo` gets `:tag` added, never replaced.
 */
export function siteOfScalar(node: unknown, where: string, image?: string, key?: string): TagSite {
  if (!isScalar(node)) throw new ManifestTargetUnsupported(where, 'is not a scalar value');
  if (key !== undefined && NAME_KEYS.has(key))
    throw new ManifestTargetUnsupported(where, `${key} names the image, not its tag; point at the tag`);
  const text = scalarText(node) ?? '';
  if (!/[/:]/.test(text) && !(key !== undefined && /image$/i.test(key) && typeof node.value === 'string'))
    return { node, kind: 'tag', where };
  if (image && !sameImage(splitImageRef(text).name, splitImageRef(image).name)) {
    throw new ManifestTargetNotFound(`${where} (image ${image})`, `it holds ${splitImageRef(text).name}`);
  }
  return { node, kind: 'reference', where };
}

/** A Helm block that pins a digest beside the tag: the digest wins, so a tag edit alone would change nothing. */
export function refuseDigest(block: unknown, where: string): void {
  const digest = isMap(block) ? valueText(pairOf(block, 'digest')?.value) : undefined;
  if (digest)
    throw new ManifestTargetUnsupported(
      where,
      `the image block pins digest ${digest}, which wins over the tag; remove the digest (or set it to "") first`,
    );
}

/** The tag site of a Helm image block (`{repository, tag}`, `{image, tag}`), checking the image name when one is given. */
export function siteOfBlock(block: unknown, where: string, image?: string): TagSite {
  const name = blockImage(block);
  if (image && name && !sameImage(name, splitImageRef(image).name)) {
    throw new ManifestTargetNotFound(`${where} (image ${image})`, `its repository is ${name}`);
  }
  const tag = isMap(block) ? pairOf(block, 'tag') : undefined;
  if (!tag) throw new ManifestTargetNotFound(`${where}.tag`, 'the image block has no tag key');
  const own = isMap(block) && !pairOf(block, 'repository') ? valueText(pairOf(block, 'image')?.value) : undefined;
  if (own && splitImageRef(own).tag !== undefined) {
    throw new ManifestTargetAmbiguous(
      `${where}.tag`,
      [`${where}.image`, `${where}.tag`],
      'the image has a tag of its own beside the tag key; keep one',
    );
  }
  refuseDigest(block, `${where}.tag`);
  return siteOfScalar(tag.value, `${where}.tag`);
}

/** Resolve `target.path` in every document; exactly one document may hold it. */
export function locateByPath(docs: ManifestDocument[], path: string, image?: string): TagSite {
  const segments = parsePath(path);
  const found: TagSite[] = [];
  const missing: string[] = [];
  docs.forEach((doc, i) => {
    const hit = followPath(doc.contents, segments, path);
    if (!hit.node) {
      missing.push(hit.missing!);
      return;
    }
    const where = describeIn(docs, i, path);
    if (isMap(hit.node)) {
      found.push(siteOfBlock(hit.node, where, image));
      return;
    }
    const last = segments.at(-1)!;
    const key = 'key' in last ? last.key : undefined;
    // `image.tag` beside `image.digest`: the digest would win.
    if (key !== undefined && segments.length > 1)
      refuseDigest(followPath(doc.contents, segments.slice(0, -1), path).node, where);
    found.push(siteOfScalar(hit.node, where, image, key));
  });
  if (found.length > 1)
    throw new ManifestTargetAmbiguous(
      path,
      found.map((f) => f.where),
      'the path exists in several documents',
    );
  if (found.length === 0)
    throw new ManifestTargetNotFound(path, docs.length === 1 ? missing[0] : `in none of ${docs.length} documents`);
  return found[0]!;
}

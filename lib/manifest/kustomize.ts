/**
 * kustomize `kustomization.yaml`: the `newTag` of the `images` entry whose `name` is the image (the name
 * as written in the resources), else whose `newName` is (the config names the image as the registry
 * knows it). An entry that pins a `digest` is refused: kustomize would ignore the tag.
 * https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/
 */
import { isMap, isSeq, type YAMLMap } from 'yaml';
import { ManifestTargetAmbiguous, ManifestTargetNotFound, ManifestTargetUnsupported } from './errors.js';
import { sameImage, splitImageRef } from './image-ref.js';
import { siteOfScalar } from './locate-by-path.js';
import { describeIn, type ManifestDocument } from './parse-manifest.js';
import { pairOf, scalarText } from './path.js';
import type { TagSite, TagTarget } from './types.js';

interface Entry {
  map: YAMLMap;
  doc: number;
  index: number;
}

const field = (e: Entry, key: string) => scalarText(pairOf(e.map, key)?.value);

/** Locate `images[name=<image>].newTag`. Without `image`, the file must list exactly one image. */
export function locateKustomizeTag(docs: ManifestDocument[], target: TagTarget): TagSite {
  const entries: Entry[] = [];
  docs.forEach((doc, i) => {
    const images = isMap(doc.contents) ? pairOf(doc.contents, 'images')?.value : undefined;
    if (isSeq(images)) {
      images.items.forEach((map, index) => {
        if (isMap(map)) entries.push({ map, doc: i, index });
      });
    }
  });
  const image = target.image && splitImageRef(target.image).name;
  const what = `images[name=${image ?? '*'}]`;
  const named = (key: string) => entries.filter((e) => image === undefined || sameImage(field(e, key) ?? '', image));
  const byName = named('name');
  const hits = byName.length > 0 ? byName : named('newName');
  const label = (e: Entry) => describeIn(docs, e.doc, `images[name=${field(e, 'name')}]`);
  if (hits.length > 1)
    throw new ManifestTargetAmbiguous(what, hits.map(label), image ? undefined : 'name the image with --image');
  const entry = hits[0];
  if (!entry) {
    const listed = entries.map((e) => field(e, 'name')).join(', ');
    throw new ManifestTargetNotFound(what, listed ? `images listed: ${listed}` : 'the file has no images: list');
  }
  const where = `${label(entry)}.newTag`;
  if (pairOf(entry.map, 'digest')) {
    throw new ManifestTargetUnsupported(
      where,
      'the entry pins a digest, which kustomize uses instead of newTag; remove the digest first',
    );
  }
  const newTag = pairOf(entry.map, 'newTag');
  if (!newTag)
    throw new ManifestTargetNotFound(where, 'add a newTag key to the entry once; fjord edits it but does not add keys');
  return siteOfScalar(newTag.value, where, undefined, 'newTag');
}

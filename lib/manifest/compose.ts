/**
 * docker compose: `services.<service>.image: repo:tag`; only the part after the colon is edited. A service
 * is chosen by name, by image name, or both; an image used by two services is ambiguous unless the
 * service is named. A service whose image comes from a merge key (`<<: *common`) is refused.
 * https://docs.docker.com/reference/compose-file/services/#image
 */
import { isMap, isScalar } from 'yaml';
import { ManifestTargetAmbiguous, ManifestTargetNotFound, ManifestTargetUnsupported } from './errors.js';
import { sameImage, splitImageRef } from './image-ref.js';
import { describeIn, type ManifestDocument } from './parse-manifest.js';
import { pairOf, scalarText } from './path.js';
import type { TagSite, TagTarget } from './types.js';

/** Locate the image reference of one compose service. */
export function locateComposeTag(docs: ManifestDocument[], target: TagTarget): TagSite {
  const candidates: TagSite[] = [];
  const names: string[] = [];
  const image = target.image && splitImageRef(target.image).name;
  const what =
    [target.service && `services.${target.service}`, image && `image ${image}`].filter(Boolean).join(' with ') ||
    'services.*.image';
  docs.forEach((doc, i) => {
    const services = isMap(doc.contents) ? pairOf(doc.contents, 'services')?.value : undefined;
    if (!isMap(services)) return;
    for (const pair of services.items) {
      const name = scalarText(pair.key) ?? '';
      names.push(name);
      if (target.service !== undefined && name !== target.service) continue;
      const where = describeIn(docs, i, `services.${name}.image`);
      const service = pair.value;
      const ref = isMap(service) ? pairOf(service, 'image')?.value : undefined;
      if (!isScalar(ref)) {
        if (target.service === undefined) continue; // build-only services are not candidates
        const merged = isMap(service) && pairOf(service, '<<');
        if (merged)
          throw new ManifestTargetUnsupported(
            where,
            'the image comes from a merge key (<<); edit the anchored block with --path',
          );
        throw new ManifestTargetNotFound(where, 'the service has no image: key');
      }
      if (image && !sameImage(splitImageRef(scalarText(ref) ?? '').name, image)) continue;
      candidates.push({ node: ref, kind: 'reference', where });
    }
  });
  if (candidates.length > 1) {
    throw new ManifestTargetAmbiguous(
      what,
      candidates.map((c) => c.where),
      target.service ? undefined : 'name the service with --service',
    );
  }
  if (candidates.length === 0)
    throw new ManifestTargetNotFound(what, names.length ? `services: ${names.join(', ')}` : 'the file has no services');
  return candidates[0]!;
}

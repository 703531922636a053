/**
 * Plain Kubernetes YAML, one or many documents: the `image:` of a container chosen by name and/or image.
 * Containers are found wherever a pod template puts them (Deployment, StatefulSet, DaemonSet, Job,
 * CronJob, Pod, Argo Rollout, `kind: List` items…): any `containers` or `initContainers` sequence.
 * `container` may name the workload too, `api/app` (metadata.name/container), when a container name
 * repeats across documents.
 */
import { isMap, isScalar, isSeq, type Scalar } from 'yaml';
import { ManifestTargetAmbiguous, ManifestTargetNotFound } from './errors.js';
import { sameImage, splitImageRef } from './image-ref.js';
import { describeIn, type ManifestDocument } from './parse-manifest.js';
import { pairOf, scalarText } from './path.js';
import type { TagSite, TagTarget } from './types.js';

interface Container {
  workload: string;
  name: string;
  image?: Scalar;
  where: string;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers']);

function collect(
  node: unknown,
  trail: string,
  owner: { label: string; name: string },
  out: Container[],
  label: (w: string) => string,
) {
  if (isMap(node)) {
    const kind = scalarText(pairOf(node, 'kind')?.value);
    const meta = pairOf(node, 'metadata')?.value;
    const name = isMap(meta) ? scalarText(pairOf(meta, 'name')?.value) : undefined;
    if (kind && name !== undefined) [owner, trail] = [{ label: `${kind}/${name}`, name }, ''];
    for (const pair of node.items) {
      const key = scalarText(pair.key) ?? '?';
      const at = trail ? `${trail}.${key}` : key;
      if (CONTAINER_LISTS.has(key) && isSeq(pair.value)) {
        for (const item of pair.value.items) {
          if (!isMap(item)) continue;
          const cname = scalarText(pairOf(item, 'name')?.value) ?? '';
          const image = pairOf(item, 'image')?.value;
          const where = label(`${owner.label}: ${at}[name=${cname}].image`);
          out.push({ workload: owner.name, name: cname, image: isScalar(image) ? image : undefined, where });
        }
      } else collect(pair.value, at, owner, out, label);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      collect(item, `${trail}[${i}]`, owner, out, label);
    });
  }
}

/** Locate one container's image reference across all documents. */
export function locateK8sTag(docs: ManifestDocument[], target: TagTarget): TagSite {
  const all: Container[] = [];
  docs.forEach((doc, i) => {
    collect(doc.contents, '', { label: '(document)', name: '' }, all, (w) => describeIn(docs, i, w));
  });
  const slash = target.container?.lastIndexOf('/') ?? -1;
  const workload = slash > 0 ? target.container!.slice(0, slash) : undefined;
  const cname = slash > 0 ? target.container!.slice(slash + 1) : target.container;
  const image = target.image && splitImageRef(target.image).name;
  const what =
    [target.container && `container ${target.container}`, image && `image ${image}`].filter(Boolean).join(' with ') ||
    'container';
  const hits = all.filter(
    (c) =>
      (cname === undefined || c.name === cname) &&
      (workload === undefined || c.workload === workload) &&
      (image === undefined ||
        (c.image !== undefined && sameImage(splitImageRef(scalarText(c.image) ?? '').name, image))),
  );
  if (hits.length > 1) {
    const hint = workload ? undefined : 'name the workload too, e.g. --container <metadata.name>/<container>';
    throw new ManifestTargetAmbiguous(
      what,
      hits.map((c) => c.where),
      hint,
    );
  }
  const hit = hits[0];
  if (!hit)
    throw new ManifestTargetNotFound(
      what,
      all.length ? `containers: ${all.map((c) => `${c.workload}/${c.name}`).join(', ')}` : 'no containers in the file',
    );
  if (!hit.image) throw new ManifestTargetNotFound(hit.where, 'the container has no image');
  return { node: hit.image, kind: 'reference', where: hit.where };
}

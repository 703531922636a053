/**
 * Which format a manifest is, when the config does not say: the file name first (`kustomization.yaml`,
 * `compose.yaml`, `docker-compose.*.yml`), then the content: `kind: Kustomization` (or a top-level
 * `images` list of `newTag`/`newName` entries), a top-level `services` mapping of mappings, documents with
 * `apiVersion` and `kind`; anything else is Helm values.
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { ManifestDocument } from './parse-manifest.js';
import { pairOf, scalarText } from './path.js';
import type { ManifestFormat } from './types.js';

const top = (doc: ManifestDocument, key: string) =>
  isMap(doc.contents) ? pairOf(doc.contents, key)?.value : undefined;

/** Pick the format of `docs`; `file` (a path) is a hint. */
export function detectFormat(docs: ManifestDocument[], file?: string): ManifestFormat {
  const base = file?.split('/').pop()?.toLowerCase() ?? '';
  if (/^kustomization\.ya?ml$/.test(base)) return 'kustomize';
  if (/^(docker-)?compose(\.[\w.-]+)?\.ya?ml$/.test(base)) return 'compose';
  const kinds = docs.map((d) => scalarText(top(d, 'kind')));
  if (kinds.includes('Kustomization')) return 'kustomize';
  const images = docs.map((d) => top(d, 'images'));
  const kustomizeImages = images.some(
    (list) =>
      isSeq(list) &&
      list.items.length > 0 &&
      list.items.every(
        (e) => isMap(e) && pairOf(e, 'name') && (pairOf(e, 'newTag') || pairOf(e, 'newName') || pairOf(e, 'digest')),
      ),
  );
  if (kustomizeImages && docs.every((d) => !top(d, 'apiVersion') || scalarText(top(d, 'kind')) === 'Kustomization'))
    return 'kustomize';
  const services = docs.map((d) => top(d, 'services'));
  // Helm values may have a `services:` block too; compose services are mappings with a string image or a build.
  const composeLike = (s: unknown) =>
    isMap(s) &&
    s.items.length > 0 &&
    s.items.every((p) => isMap(p.value)) &&
    s.items.some((p) => isMap(p.value) && (isScalar(pairOf(p.value, 'image')?.value) || pairOf(p.value, 'build')));
  if (services.some(composeLike) && kinds.every((k) => !k)) return 'compose';
  if (docs.length > 0 && docs.some((d) => top(d, 'apiVersion') && top(d, 'kind'))) return 'k8s';
  return 'helm';
}

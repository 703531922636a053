/**
 * The two entry points of manifest tag edits: `readTag` (what the file says now; the worker and the
 * reconciler compare it with what runs) and `bumpTag` (a new text that differs from the old one only in
 * the tag's characters). Both are pure: text in, text out; the ManifestStore does the I/O.
 */
import { TAG } from '../grammar.js';
import { detectFormat } from './detect-format.js';
import { FjordError } from '../errors.js';
import { InvalidTag, ManifestTargetNotFound, ManifestTargetUnsupported } from './errors.js';
import { locateComposeTag } from './compose.js';
import { locateHelmTag } from './helm.js';
import { splitImageRef } from './image-ref.js';
import { locateK8sTag } from './k8s.js';
import { locateKustomizeTag } from './kustomize.js';
import { locateByPath } from './locate-by-path.js';
import { parseManifest, type ManifestDocument } from './parse-manifest.js';
import { spliceTag, tagSpan } from './tag-span.js';
import type { ManifestFormat, TagSite, TagTarget } from './types.js';

export interface BumpResult {
  text: string;
  /** The tag before the edit; undefined when the file had none (`tag: ""`, `image: nginx`). */
  previousTag?: string;
  /** False when the file already had the tag: `text` is then the input, unchanged. */
  changed: boolean;
  format: ManifestFormat;
  /** Where the tag lives, for logs and commit messages (`image.tag`, `services.api.image`). */
  where: string;
}

const LOCATORS: Record<ManifestFormat, (docs: ManifestDocument[], target: TagTarget) => TagSite> = {
  helm: locateHelmTag,
  kustomize: locateKustomizeTag,
  compose: locateComposeTag,
  k8s: locateK8sTag,
};

/** Which selectors mean something per format (`path` works in all); any other is a mistake, not ignored. */
const SELECTORS: Record<ManifestFormat, readonly ('image' | 'container' | 'service')[]> = {
  helm: ['image'],
  kustomize: ['image'],
  compose: ['service', 'image'],
  k8s: ['container', 'image'],
};

/** The tag site of `target` in parsed documents; the format is `target.format`, else detected. */
export function locateTag(docs: ManifestDocument[], target: TagTarget): { site: TagSite; format: ManifestFormat } {
  const format = target.format ?? detectFormat(docs, target.file);
  for (const key of ['image', 'container', 'service'] as const) {
    if (target[key] !== undefined && !SELECTORS[format].includes(key)) {
      const fits = (Object.keys(SELECTORS) as ManifestFormat[]).filter((f) => SELECTORS[f].includes(key));
      const how = target.format ? '' : ' (detected; set the format if that is wrong)';
      throw new ManifestTargetUnsupported(
        `${key} ${target[key]}`,
        `applies to ${fits.join(' and ')} manifests, and this one is ${format}${how}`,
      );
    }
  }
  if (docs.length === 0)
    throw new ManifestTargetNotFound(target.path ?? target.file ?? 'manifest', 'the file is empty');
  const site = target.path ? locateByPath(docs, target.path, target.image) : LOCATORS[format](docs, target);
  return { site, format };
}

/** The tag the manifest sets for `target` (undefined when it sets none). Throws the errors `bumpTag` does. */
export function readTag(text: string, target: TagTarget): string | undefined {
  return tagSpan(text, locateTag(parseManifest(text), target).site).tag;
}

/**
 * Set the tag of `target` in `text`. Only the tag's characters change (plus quotes around a plain tag that
 * would otherwise not read back as a string, and a space after a bare `tag:`). Errors:
 * InvalidTag, ManifestInvalid, ManifestTargetNotFound, ManifestTargetAmbiguous, ManifestTargetUnsupported.
 */
export function bumpTag(text: string, target: TagTarget, tag: string): BumpResult {
  if (!TAG.test(tag)) throw new InvalidTag(tag);
  const { site, format } = locateTag(parseManifest(text), target);
  const span = tagSpan(text, site);
  if (span.tag === tag) return { text, previousTag: tag, changed: false, format, where: site.where };
  const edited = spliceTag(text, span, tag);
  verify(edited, { ...target, format }, tag, site.where);
  return { text: edited, previousTag: span.tag, changed: true, format, where: site.where };
}

/** Re-parse the edited text and read the tag back, as the string it must be: never hand on a broken edit. */
function verify(edited: string, target: TagTarget, tag: string, where: string): void {
  let problem: string | undefined;
  try {
    const { site } = locateTag(parseManifest(edited), target);
    const value = site.node.value;
    const read = typeof value === 'string' ? (site.kind === 'tag' ? value : splitImageRef(value).tag) : undefined;
    if (read !== tag || tagSpan(edited, site).tag !== tag) problem = `it reads back as ${JSON.stringify(value)}`;
  } catch (err) {
    if (!(err instanceof FjordError)) throw err;
    problem = err.message;
  }
  if (problem) throw new ManifestTargetUnsupported(where, `the edit does not read back as tag ${tag}: ${problem}`);
}

export { bumpTag, locateTag, readTag, type BumpResult } from './bump-tag.js';
export { detectFormat } from './detect-format.js';
export * from './errors.js';
export { normalizeImageName, sameImage, splitImageRef, type ImageRef } from './image-ref.js';
export { parseManifest, type ManifestDocument } from './parse-manifest.js';
export { FORMATS, type ManifestFormat, type TagSite, type TagTarget } from './types.js';

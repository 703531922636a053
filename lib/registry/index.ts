export * from './errors.js';
export * from './reference.js';
export * from './credentials.js';
export { imageExists, MANIFEST_TYPES, type RegistryOptions } from './image-exists.js';
export { waitForImage, type WaitInfo, type WaitOptions, type WaitResult } from './wait-for-image.js';
export { TokenCache } from './token-cache.js';

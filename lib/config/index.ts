export * from './schema.js';
export * from './load.js';
export * from './secrets.js';
export { parseDuration } from './duration.js';
export { formatPath } from './format-issues.js';

export * from './types.js';
export * from './errors.js';
export { connect } from './connect.js';
export { openFleet, type Fleet } from './fleet.js';
export { quote, joinArgv, commandLine } from './quote.js';
export { fingerprint, fingerprintOfPublicKey } from './fingerprint.js';
export { sshAuthFromConfig, sshHostsFromConfig, sshOptionsFromConfig } from './from-config.js';

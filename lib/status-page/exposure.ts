/**
 * Who may read the status page (issue 12, item 5). It shows host names, what runs where, authors and
 * failure details, so it is not public by default: with `statusPage.tokenEnv` it needs the token; without
 * one it is open only while fjord listens on a loopback address (a reverse proxy in front, or an SSH
 * tunnel, decides who reaches it); bound anywhere else it answers 401 and the start-up log says why.
 */
import { isIP } from 'node:net';
import type { Config } from '../config/schema.js';

export type Exposure = 'off' | 'token' | 'loopback' | 'locked';

/** Whether `hostname` (the address the receiver binds) is reachable from this machine only. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h.startsWith('::ffff:127.');
}

export function statusPageExposure(config: Config, hostname: string): Exposure {
  if (!config.statusPage.enabled) return 'off';
  if (config.statusPage.tokenEnv) return 'token';
  return isLoopback(hostname) ? 'loopback' : 'locked';
}

/** The start-up line that says what the status page does and why. */
export function exposureNote(exposure: Exposure, hostname: string): string {
  switch (exposure) {
    case 'off':
      return 'status page off (statusPage.enabled: false)';
    case 'token':
      return 'status page at GET /, token required (statusPage.tokenEnv)';
    case 'loopback':
      return `status page at GET /, open: fjord listens on ${hostname} (loopback) only`;
    case 'locked':
      return `status page answers 401: fjord listens on ${hostname}, beyond loopback, and statusPage.tokenEnv is not set (the page shows host names, deploys and authors). Set statusPage.tokenEnv, or listen on 127.0.0.1 (HOST) behind a reverse proxy`;
  }
}

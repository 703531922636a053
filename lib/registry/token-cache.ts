/**
 * Authorization values per (registry, scope, identity), kept until shortly before they expire, so a job
 * waiting for its image does not fetch a new bearer token on every check. Values stay wrapped in `Secret`.
 */
import { createHash } from 'node:crypto';
import type { Secret } from '../secret.js';
import type { RegistryCredential } from './credentials.js';

interface Entry {
  authorization: Secret;
  expiresAt: number;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): Secret | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.authorization;
    this.#entries.delete(key);
    return undefined;
  }

  /** Keeps `authorization` for `ttlMs`, less a margin (a tenth, at most 5 s) so it is not sent as it expires. */
  set(key: string, authorization: Secret, ttlMs: number): void {
    const margin = Math.min(5_000, ttlMs / 10);
    this.#entries.set(key, { authorization, expiresAt: this.now() + ttlMs - margin });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}

/** Shared by every check in this process unless a caller hands in its own cache. */
export const defaultTokenCache = new TokenCache();

/** Cache key. The identity is a hash, so the key holds no credential in clear. */
export function tokenKey(origin: string, scope: string, credential: RegistryCredential | undefined): string {
  const basic = credential?.basic;
  const identity = basic
    ? createHash('sha256').update(`${basic.username.reveal()}\0${basic.password.reveal()}`).digest('hex').slice(0, 32)
    : 'anonymous';
  return `${origin} ${scope} ${identity}`;
}

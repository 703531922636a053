/**
 * GitLab's plain secret token: the `X-Gitlab-Token` header must equal one of the configured secrets
 * (several during rotation). Both sides are hashed with SHA-256 first, so `timingSafeEqual` always
 * compares 32 bytes and neither the secret's length nor a matching prefix leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../secret.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** A verifier for `tokens`, with their digests computed once. No tokens: every request fails. */
export function createGitlabTokenVerifier(tokens: readonly Secret[]): (given: string | undefined) => boolean {
  const expected = tokens.map((t) => digest(t.reveal()));
  return (given) => {
    if (given === undefined || given.length === 0 || expected.length === 0) return false;
    const actual = digest(given);
    let ok = false;
    // No early exit: the time taken does not tell which secret (if any) matched.
    for (const e of expected) ok = timingSafeEqual(actual, e) || ok;
    return ok;
  };
}

/** One-off form of `createGitlabTokenVerifier`. */
export function verifyGitlabToken(given: string | undefined, tokens: readonly Secret[]): boolean {
  return createGitlabTokenVerifier(tokens)(given);
}

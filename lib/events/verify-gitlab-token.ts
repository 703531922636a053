/**
 * GitLab's plain secret token: the `X-Gitlab-Token` header must equal one of the configured secrets
 * (several during rotation, and one set per app). Both sides are hashed with SHA-256 first, so
 * `timingSafeEqual` always compares 32 bytes and neither the secret's length nor a matching prefix leaks
 * through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../secret.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * A matcher for `tokens`, digests computed once: the indices of every token equal to `given` (none: `[]`).
 * Every token is compared, whatever matched: the time taken does not tell which secret (if any) matched.
 */
export function createGitlabTokenMatcher(tokens: readonly Secret[]): (given: string | undefined) => number[] {
  const expected = tokens.map((t) => digest(t.reveal()));
  return (given) => {
    if (given === undefined || given.length === 0 || expected.length === 0) return [];
    const actual = digest(given);
    const matched: number[] = [];
    expected.forEach((e, i) => {
      if (timingSafeEqual(actual, e)) matched.push(i);
    });
    return matched;
  };
}

/** A verifier for `tokens`: whether `given` is any of them. No tokens: every request fails. */
export function createGitlabTokenVerifier(tokens: readonly Secret[]): (given: string | undefined) => boolean {
  const match = createGitlabTokenMatcher(tokens);
  return (given) => match(given).length > 0;
}

/** One-off form of `createGitlabTokenVerifier`. */
export function verifyGitlabToken(given: string | undefined, tokens: readonly Secret[]): boolean {
  return createGitlabTokenVerifier(tokens)(given);
}

/**
 * GitHub's `X-Hub-Signature-256: sha256=<hex HMAC of the body>`, verified by `@octokit/webhooks`
 * (constant-time compare in @octokit/webhooks-methods). One `Webhooks` per secret, each tried, so a
 * secret can be rotated by configuring old and new side by side, and each app may have its own.
 * verify() takes the body as text (UTF-8): GitHub sends UTF-8 JSON; a body that is not valid UTF-8 decodes
 * differently and simply fails to verify.
 */
import { Webhooks } from '@octokit/webhooks';
import type { Secret } from '../secret.js';

/** A matcher for `secrets`: the indices of every secret the signature was made with (none: `[]`). */
export function createGithubMatcher(
  secrets: readonly Secret[],
): (payload: string, signature: string | undefined) => Promise<number[]> {
  const hooks = secrets.map((s) => new Webhooks({ secret: s.reveal() }));
  return async (payload, signature) => {
    if (!signature?.startsWith('sha256=') || payload.length === 0) return [];
    const matched: number[] = [];
    for (const [i, hook] of hooks.entries()) {
      // verify() throws on arguments it cannot use; for us that is simply "not verified".
      if (await hook.verify(payload, signature).catch(() => false)) matched.push(i);
    }
    return matched;
  };
}

/** A verifier for `secrets`. No secrets: every request fails. */
export function createGithubVerifier(
  secrets: readonly Secret[],
): (payload: string, signature: string | undefined) => Promise<boolean> {
  const match = createGithubMatcher(secrets);
  return async (payload, signature) => (await match(payload, signature)).length > 0;
}

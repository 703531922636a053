/**
 * GitHub's `X-Hub-Signature-256: sha256=<hex HMAC of the body>`, verified by `@octokit/webhooks`
 * (constant-time compare in @octokit/webhooks-methods). One `Webhooks` per secret, tried in turn, so a
 * secret can be rotated by configuring old and new side by side. verify() takes the body as text (UTF-8):
 * GitHub sends UTF-8 JSON; a body that is not valid UTF-8 decodes differently and simply fails to verify.
 */
import { Webhooks } from '@octokit/webhooks';
import type { Secret } from '../secret.js';

/** A verifier for `secrets`. No secrets: every request fails. */
export function createGithubVerifier(secrets: readonly Secret[]): (payload: string, signature: string | undefined) => Promise<boolean> {
  const hooks = secrets.map((s) => new Webhooks({ secret: s.reveal() }));
  return async (payload, signature) => {
    if (!signature || !signature.startsWith('sha256=') || payload.length === 0) return false;
    for (const hook of hooks) {
      // verify() throws on arguments it cannot use; for us that is simply "not verified".
      if (await hook.verify(payload, signature).catch(() => false)) return true;
    }
    return false;
  };
}

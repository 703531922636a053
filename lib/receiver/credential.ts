/**
 * Whom a webhook's secret speaks for (issue 12, item 4). Each app may have a secret of its own
 * (`apps.<app>.source.webhookSecretEnv`); the provider's shared secret speaks only for apps without one.
 * So whoever holds one project's hook secret can deploy that project's apps, not every app of fjord.
 */
import type { Secret } from '../secret.js';
import type { DeployJob } from '../job.js';

export interface Credential {
  /** The provider's shared secret (or signing key) matched. */
  shared: boolean;
  /** Apps whose own secret matched. */
  apps: ReadonlySet<string>;
}

/** Shared and per-app secrets of one provider as one list, and for each entry the app it is for ('' = shared). */
export function scopedSecrets(
  shared: readonly Secret[],
  own: Record<string, Secret[]>,
  apps: readonly string[],
): { secrets: Secret[]; scopes: string[] } {
  const secrets = [...shared];
  const scopes = shared.map(() => '');
  for (const app of apps) {
    for (const s of own[app] ?? []) {
      secrets.push(s);
      scopes.push(app);
    }
  }
  return { secrets, scopes };
}

/** The credential of the matched entries of `scopedSecrets`. */
export function credentialOf(matched: readonly number[], scopes: readonly string[]): Credential {
  const apps = new Set<string>();
  let shared = false;
  for (const i of matched) {
    if (scopes[i] === '') shared = true;
    else apps.add(scopes[i]!);
  }
  return { shared, apps };
}

/**
 * Why `credential` may not queue `job`, or undefined when it may. An app with its own secret takes only
 * that one; other apps, and converge jobs of the manifest repository, take the shared secret.
 */
export function refusal(credential: Credential, job: DeployJob, hasOwn: (app: string) => boolean): string | undefined {
  if (job.reason === 'converge') {
    return credential.shared
      ? undefined
      : 'manifest repository pushes need the shared webhook secret (sources.<provider>.webhookSecretEnv)';
  }
  if (hasOwn(job.app)) {
    return credential.apps.has(job.app)
      ? undefined
      : `app ${job.app} takes only its own webhook secret (apps.${job.app}.source.webhookSecretEnv)`;
  }
  if (credential.shared) return undefined;
  return `app ${job.app} takes the shared webhook secret; this one is another app's (${[...credential.apps].join(', ')})`;
}

/**
 * Which Secrets Manager secret holds which environment variable, per function: the names come from
 * fjord.yaml (`*Env` keys), the secret names from `fjord/<variable in kebab case, without FJORD_>` (a prefix of your own
 * with the `secretPrefix` context value). Pure, so the split between the functions is tested: the
 * receiver sees only webhook secrets, the worker only the GitLab token, the SSH key, registry credentials and,
 * when an environment has `secrets.file`, its age identity (`secrets.identityEnv`: FJORD_AGE_KEY → fjord/age-key).
 * The queue key (`FJORD_QUEUE_KEY`, secret `fjord/queue-key`) goes to all three: each producer signs the jobs
 * it queues and the worker checks them (lib/queue/queue-key.ts).
 */
import type { Config } from '../lib/config/schema.js';
import { QUEUE_KEY_ENV } from '../lib/queue/queue-key.js';

export interface SecretPlan {
  /** Environment variable → secret name. */
  receiver: Record<string, string>;
  worker: Record<string, string>;
  /** The reconcile schedule only queues jobs: the queue key alone. */
  reconcile: Record<string, string>;
}

export function planSecrets(config: Config, prefix = 'fjord/'): SecretPlan {
  // FJORD_GITLAB_SECRET → fjord/gitlab-secret, GITLAB_TOKEN → fjord/gitlab-token
  const name = (env: string) =>
    prefix +
    env
      .replace(/^FJORD_/, '')
      .toLowerCase()
      .replace(/_/g, '-');
  const pick = (...vars: Array<string | undefined>) =>
    Object.fromEntries(vars.filter((v): v is string => !!v).map((v) => [v, name(v)]));
  const gitlab = config.sources.gitlab;
  const github = config.sources.github;
  return {
    receiver: pick(gitlab?.webhookSecretEnv, gitlab?.signingKeyEnv, github?.webhookSecretEnv, QUEUE_KEY_ENV),
    reconcile: pick(QUEUE_KEY_ENV),
    worker: pick(
      QUEUE_KEY_ENV,
      gitlab?.tokenEnv,
      github?.tokenEnv,
      config.ssh.privateKeyEnv,
      config.ssh.passphraseEnv,
      ...config.registries.flatMap((r) => [r.usernameEnv, r.passwordEnv]),
      // The age identity decrypts app secrets in the worker only; asked for only when some environment has them.
      Object.values(config.apps).some((app) => Object.values(app.environments).some((env) => env.secrets))
        ? config.secrets.identityEnv
        : undefined,
    ),
  };
}

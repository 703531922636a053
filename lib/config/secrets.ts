/** Secrets named by fjord.yaml, read from the environment once and wrapped in `Secret`. */
import { Secret } from '../secret.js';
import type { Config } from './schema.js';

/** All values of a comma-separated secret variable (several are allowed during rotation). */
export function secretList(env: NodeJS.ProcessEnv, name: string | undefined): Secret[] {
  if (!name) return [];
  const raw = env[name];
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => new Secret(s));
}

export function secretValue(env: NodeJS.ProcessEnv, name: string | undefined): Secret | undefined {
  const raw = name ? env[name] : undefined;
  return raw ? new Secret(raw) : undefined;
}

export interface WebhookSecrets {
  gitlabTokens: Secret[];
  gitlabSigningKeys: Secret[];
  githubSecrets: Secret[];
}

export function webhookSecrets(config: Config, env: NodeJS.ProcessEnv = process.env): WebhookSecrets {
  return {
    gitlabTokens: secretList(env, config.sources.gitlab?.webhookSecretEnv),
    gitlabSigningKeys: secretList(env, config.sources.gitlab?.signingKeyEnv),
    githubSecrets: secretList(env, config.sources.github?.webhookSecretEnv),
  };
}

/** Secrets named by fjord.yaml, read from the environment once and wrapped in `Secret`. */
import { ConfigError } from '../errors.js';
import { Secret } from '../secret.js';
import type { Config } from './schema.js';

/** Shortest webhook secret (or status page token) fjord starts with (issue 12, item 4). */
export const MIN_SECRET_LENGTH = 16;

/**
 * All values of a secret variable: one per line, so that several can be accepted during rotation. A line
 * is taken whole — commas and all: a secret may contain a comma, and a header value can never hold a
 * newline, so the line break is the one separator that cannot cut a secret in two (issue 12, item 4).
 * Surrounding blanks and empty lines are dropped.
 */
export function secretList(env: NodeJS.ProcessEnv, name: string | undefined): Secret[] {
  return secretLines(name ? env[name] : undefined).map((s) => new Secret(s));
}

const secretLines = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

export function secretValue(env: NodeJS.ProcessEnv, name: string | undefined): Secret | undefined {
  const raw = name ? env[name] : undefined;
  return raw ? new Secret(raw) : undefined;
}

export interface WebhookSecrets {
  /** Shared by every app of the provider that has no secret of its own. */
  gitlabTokens: Secret[];
  gitlabSigningKeys: Secret[];
  githubSecrets: Secret[];
  /** `apps.<app>.source.webhookSecretEnv`: the app's own secrets; an app listed here takes no shared one. */
  apps?: Record<string, Secret[]>;
  /** Start-up warnings about how the variables were read (a one-line value with a comma). */
  warnings?: string[];
}

/**
 * The webhook secrets fjord.yaml names, read once. Throws ConfigError (start-up refused) for a secret
 * shorter than MIN_SECRET_LENGTH, naming the setting and the variable, never the value.
 */
export function webhookSecrets(config: Config, env: NodeJS.ProcessEnv = process.env): WebhookSecrets {
  const problems: string[] = [];
  const read = (path: string, name: string | undefined): Secret[] => {
    const lines = secretLines(name ? env[name] : undefined);
    lines.forEach((line, i) => {
      if (line.length < MIN_SECRET_LENGTH) {
        const which = lines.length > 1 ? `line ${i + 1} of ${name}` : name;
        problems.push(
          `${path}: ${which} holds a secret shorter than ${MIN_SECRET_LENGTH} characters; use a longer random value (e.g. openssl rand -hex 32)`,
        );
      }
    });
    return lines.map((s) => new Secret(s));
  };
  const gitlab = config.sources.gitlab;
  const github = config.sources.github;
  const secrets: WebhookSecrets = {
    gitlabTokens: read('sources.gitlab.webhookSecretEnv', gitlab?.webhookSecretEnv),
    gitlabSigningKeys: read('sources.gitlab.signingKeyEnv', gitlab?.signingKeyEnv),
    githubSecrets: read('sources.github.webhookSecretEnv', github?.webhookSecretEnv),
    apps: {},
    warnings: commaSecretVariables(config, env).map(
      (name) =>
        `${name} holds a comma: it is read as one secret, comma included; to accept several during rotation put one secret per line`,
    ),
  };
  for (const [app, { source }] of Object.entries(config.apps)) {
    if (source.webhookSecretEnv)
      secrets.apps![app] = read(`apps.${app}.source.webhookSecretEnv`, source.webhookSecretEnv);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secrets;
}

/** Variables that hold exactly one line with a comma: once read as a comma-separated list, now as one secret. */
export function commaSecretVariables(config: Config, env: NodeJS.ProcessEnv): string[] {
  const names = [
    config.sources.gitlab?.webhookSecretEnv,
    config.sources.gitlab?.signingKeyEnv,
    config.sources.github?.webhookSecretEnv,
    ...Object.values(config.apps).map((a) => a.source.webhookSecretEnv),
  ];
  return [...new Set(names)].filter((n): n is string => !!n && secretLines(env[n]).some((line) => line.includes(',')));
}

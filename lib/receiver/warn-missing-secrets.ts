/** Start-up warnings: a source without a secret refuses every webhook, and the operator should know why. */
import type { Config } from '../config/schema.js';
import type { WebhookSecrets } from '../config/secrets.js';
import type { Logger } from '../log.js';

export function warnMissingSecrets(config: Config, secrets: WebhookSecrets, logger: Logger): void {
  const used = new Set(Object.values(config.apps).map((a) => a.source.provider));
  const gitlab = config.sources.gitlab;
  if ((gitlab || used.has('gitlab')) && secrets.gitlabTokens.length + secrets.gitlabSigningKeys.length === 0) {
    const vars = [gitlab?.webhookSecretEnv, gitlab?.signingKeyEnv].filter(Boolean).join(' or ') || 'sources.gitlab.webhookSecretEnv';
    logger.warn(`no GitLab webhook secret configured (set ${vars}): every GitLab webhook will be refused with 401`);
  }
  const github = config.sources.github;
  if ((github || used.has('github')) && secrets.githubSecrets.length === 0) {
    const vars = github?.webhookSecretEnv ?? 'sources.github.webhookSecretEnv';
    logger.warn(`no GitHub webhook secret configured (set ${vars}): every GitHub webhook will be refused with 401`);
  }
}

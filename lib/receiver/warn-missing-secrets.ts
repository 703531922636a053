/**
 * Start-up warnings about webhook secrets: a source without a secret refuses every webhook, and an app
 * without a secret of its own can be deployed by any hook that holds the shared one; the operator should
 * know both.
 */
import type { Config } from '../config/schema.js';
import type { WebhookSecrets } from '../config/secrets.js';
import type { Logger } from '../log.js';

export function warnMissingSecrets(config: Config, secrets: WebhookSecrets, logger: Logger): void {
  for (const w of secrets.warnings ?? []) logger.warn(w);
  const used = new Set(Object.values(config.apps).map((a) => a.source.provider));
  const gitlab = config.sources.gitlab;
  if ((gitlab || used.has('gitlab')) && secrets.gitlabTokens.length + secrets.gitlabSigningKeys.length === 0) {
    const vars =
      [gitlab?.webhookSecretEnv, gitlab?.signingKeyEnv].filter(Boolean).join(' or ') ||
      'sources.gitlab.webhookSecretEnv';
    logger.warn(`no GitLab webhook secret configured (set ${vars}): every GitLab webhook will be refused with 401`);
  }
  const github = config.sources.github;
  if ((github || used.has('github')) && secrets.githubSecrets.length === 0) {
    const vars = github?.webhookSecretEnv ?? 'sources.github.webhookSecretEnv';
    logger.warn(`no GitHub webhook secret configured (set ${vars}): every GitHub webhook will be refused with 401`);
  }
  for (const [app, { source }] of Object.entries(config.apps)) {
    if (source.webhookSecretEnv) {
      if ((secrets.apps?.[app]?.length ?? 0) === 0)
        logger.warn(
          `app ${app}: ${source.webhookSecretEnv} (apps.${app}.source.webhookSecretEnv) is not set: its webhooks will be refused with 401`,
        );
    } else {
      logger.warn(
        `app ${app} has no webhook secret of its own and takes the shared ${source.provider} secret: any project's hook that holds it can deploy ${app}; set apps.${app}.source.webhookSecretEnv`,
      );
    }
  }
}

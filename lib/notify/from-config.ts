/**
 * The configured notifier: GitLab when `sources.gitlab.tokenEnv` names a set variable, else silent (with
 * a warning when the variable is named but empty, since feedback then quietly stops).
 */
import type { Config } from '../config/schema.js';
import { secretValue } from '../config/secrets.js';
import type { Logger } from '../log.js';
import { GitlabNotifier } from './gitlab.js';
import { silentNotifier, type Notifier } from './notifier.js';

export function createNotifier(config: Config, { env = process.env, logger }: { env?: NodeJS.ProcessEnv; logger: Logger }): Notifier {
  const gitlab = config.sources.gitlab;
  if (!gitlab?.tokenEnv) return silentNotifier;
  const token = secretValue(env, gitlab.tokenEnv);
  if (!token) {
    logger.warn('GitLab feedback off: token variable not set', { variable: gitlab.tokenEnv });
    return silentNotifier;
  }
  const manifestProject = config.manifest.backend === 'gitlab' ? config.manifest.project : undefined;
  return new GitlabNotifier({ url: gitlab.url, token, logger, manifestProject });
}

/** The command platform of a job's provider from fjord.yaml's source credentials (GitLab `tokenEnv`, GitHub token or app). */
import type { Config } from '../config/schema.js';
import { secretValue } from '../config/secrets.js';
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import { githubClientFromConfig } from '../notify/github-client.js';
import type { CommandPlatform } from './platform.js';
import { githubCommandPlatform } from './platform-github.js';
import { gitlabCommandPlatform } from './platform-gitlab.js';

export function commandPlatformFor(
  config: Config,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): (job: DeployJob) => CommandPlatform | undefined {
  const gitlab = config.sources.gitlab;
  const token = gitlab?.tokenEnv ? secretValue(env, gitlab.tokenEnv) : undefined;
  const gl = gitlab && token ? gitlabCommandPlatform({ url: gitlab.url, token, logger }) : undefined;
  const octokit = githubClientFromConfig(config, env, logger);
  const gh = octokit ? githubCommandPlatform({ octokit, logger }) : undefined;
  return (job) => (job.source.provider === 'gitlab' ? gl : job.source.provider === 'github' ? gh : undefined);
}

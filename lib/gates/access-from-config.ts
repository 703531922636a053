/** The access readers of fjord.yaml's source credentials (GitLab `tokenEnv`, GitHub token or app): none without them. */
import type { Config } from '../config/schema.js';
import { secretValue } from '../config/secrets.js';
import { githubClientFromConfig } from '../notify/github-client.js';
import { githubAccess, gitlabAccess } from './access-reader.js';
import type { AccessFor } from './protect-gate.js';

export function accessFromConfig(config: Config, env: Record<string, string | undefined>): AccessFor {
  const gitlab = config.sources.gitlab;
  const token = gitlab?.tokenEnv ? secretValue(env, gitlab.tokenEnv) : undefined;
  const gl = gitlab && token ? gitlabAccess({ url: gitlab.url, token }) : undefined;
  const octokit = githubClientFromConfig(config, env as NodeJS.ProcessEnv);
  const gh = octokit ? githubAccess(octokit) : undefined;
  return (provider) => (provider === 'gitlab' ? gl : gh);
}

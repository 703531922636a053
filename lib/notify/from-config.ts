/**
 * The configured notifier: GitLab when `sources.gitlab.tokenEnv` names a set variable, GitHub when
 * `sources.github.tokenEnv` (or `sources.github.app.privateKeyEnv`) does, chat when `notify.webhookUrlEnv` does, all combined, or silent. GitLab
 * and GitHub each hear only the jobs of their own provider's projects; chat hears every job. A variable
 * that is named but empty (or, for chat, not an http(s) URL) gets a warning naming the variable — never
 * its value — since feedback then quietly stops.
 */
import type { Config } from '../config/schema.js';
import { secretValue } from '../config/secrets.js';
import type { Logger } from '../log.js';
import type { DeployJob } from '../job.js';
import { githubClientFromConfig } from './github-client.js';
import { GithubNotifier } from './github.js';
import { hostAddresses } from '../hide-addresses.js';
import { GitlabNotifier } from './gitlab.js';
import { linksFromConfig } from './links.js';
import { combineNotifiers, silentNotifier, type Notifier } from './notifier.js';
import { WebhookNotifier } from './webhook.js';

export function createNotifier(
  config: Config,
  { env = process.env, logger }: { env?: NodeJS.ProcessEnv; logger: Logger },
): Notifier {
  const notifiers = [
    gitlabNotifier(config, env, logger),
    githubNotifier(config, env, logger),
    webhookNotifier(config, env, logger),
  ].filter((n): n is Notifier => n !== undefined);
  return notifiers.length ? combineNotifiers(...notifiers) : silentNotifier;
}

function gitlabNotifier(config: Config, env: NodeJS.ProcessEnv, logger: Logger): Notifier | undefined {
  const gitlab = config.sources.gitlab;
  if (!gitlab?.tokenEnv) return undefined;
  const token = secretValue(env, gitlab.tokenEnv);
  if (!token) {
    logger.warn('GitLab feedback off: token variable not set', { variable: gitlab.tokenEnv });
    return undefined;
  }
  const manifestProject = config.manifest.backend === 'gitlab' ? config.manifest.project : undefined;
  return onlyProvider(
    'gitlab',
    new GitlabNotifier({ url: gitlab.url, token, logger, manifestProject, addresses: hostAddresses(config.hosts) }),
  );
}

function githubNotifier(config: Config, env: NodeJS.ProcessEnv, logger: Logger): Notifier | undefined {
  const octokit = githubClientFromConfig(config, env, logger);
  if (!octokit) return undefined;
  const links = linksFromConfig(config);
  return onlyProvider('github', new GithubNotifier({ octokit, logger, commitUrl: (id) => links.manifestCommit(id) }));
}

/** `notifier`, told only of jobs whose source is `provider`: a GitHub job has nothing to address on GitLab. */
export function onlyProvider(provider: DeployJob['source']['provider'], notifier: Notifier): Notifier {
  const mine = (job: DeployJob) => job.source.provider === provider;
  return {
    jobStarted: async (job, timeline) => (mine(job) ? notifier.jobStarted(job, timeline) : undefined),
    jobProgress: async (job, timeline) => (mine(job) ? notifier.jobProgress?.(job, timeline) : undefined),
    jobFinished: async (job, outcome, timeline) =>
      mine(job) ? notifier.jobFinished(job, outcome, timeline) : undefined,
    jobWaiting: async (job, wait) => (mine(job) ? notifier.jobWaiting?.(job, wait) : undefined),
  };
}

function webhookNotifier(config: Config, env: NodeJS.ProcessEnv, logger: Logger): Notifier | undefined {
  const variable = config.notify.webhookUrlEnv;
  if (!variable) return undefined;
  const url = secretValue(env, variable);
  if (!url) {
    logger.warn('chat webhook off: URL variable not set', { variable });
    return undefined;
  }
  const protocol = URL.canParse(url.reveal()) ? new URL(url.reveal()).protocol : undefined;
  if (protocol !== 'https:' && protocol !== 'http:') {
    logger.warn('chat webhook off: variable does not hold an http(s) URL', { variable });
    return undefined;
  }
  return new WebhookNotifier({ url, logger, links: linksFromConfig(config) });
}

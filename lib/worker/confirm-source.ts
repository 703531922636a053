/**
 * Issue 12, item 4: where a GitLab or GitHub API token is configured, a webhook's word is not enough. Right
 * before the manifest commit of a webhook-triggered deploy (reasons merge, push, pipeline), the worker asks
 * the app's source platform whether the MR/PR is merged as the job's sha and the sha is on the branch (or
 * git tag) deployed from (confirm-gitlab.ts, confirm-github.ts). What is asked comes from fjord.yaml (the
 * app's provider and project, the environment's branch), the message only names sha, ref and MR. CLI jobs,
 * promotions, converge and heal jobs are not webhook claims and are not asked. Without a token (or with
 * `sources.<provider>.confirmMerge: false`) nothing is asked, as before.
 * The same API tells where a push's branch points now (`branchHead`): superseded.ts lets a push received
 * after a `fjord rollback` through only while its sha is still the branch's head.
 */
import type { Config } from '../config/schema.js';
import { secretValue } from '../config/secrets.js';
import type { DeployJob, Reason } from '../job.js';
import type { Logger } from '../log.js';
import { githubClientFromConfig } from '../notify/github-client.js';
import { githubConfirmer } from './confirm-github.js';
import { gitlabConfirmer } from './confirm-gitlab.js';
import { providerName, quoted, SourceRefused, type SourceApi, type SourceClaim } from './source-claim.js';

/** Reasons whose jobs a webhook made: the ones confirmed with the API. */
export const CONFIRMED_REASONS: readonly Reason[] = ['merge', 'push', 'pipeline'];

/** Why the platform's API does not back `job`, or undefined (confirmed, or nothing to ask). Throws `RetryableError` when the API cannot answer now. */
export type ConfirmSource = (job: DeployJob) => Promise<string | undefined>;
/** The commit `job`'s branch points at now, per the API; undefined when it cannot be asked (no token, a git tag, a refusal). */
export type BranchHead = (job: DeployJob) => Promise<string | undefined>;

/** The questions fjord.yaml lets the worker ask, or undefined when no source provider has a token (or has `confirmMerge: false`). */
export function sourceApiFromConfig(
  config: Config,
  env: NodeJS.ProcessEnv,
  logger?: Logger,
): { confirmSource: ConfirmSource; branchHead: BranchHead } | undefined {
  const gitlab = config.sources.gitlab;
  const gitlabToken = gitlab?.confirmMerge ? secretValue(env, gitlab.tokenEnv) : undefined;
  const octokit = config.sources.github?.confirmMerge ? githubClientFromConfig(config, env, logger) : undefined;
  const apis: Partial<Record<SourceClaim['provider'], SourceApi>> = {
    ...(gitlab && gitlabToken ? { gitlab: gitlabConfirmer({ url: gitlab.url, token: gitlabToken }) } : {}),
    ...(octokit ? { github: githubConfirmer(octokit) } : {}),
  };
  if (!apis.gitlab && !apis.github) return undefined;
  /** The API and the claim for `job`, a refusal, or undefined when nothing is asked. */
  const ask = (job: DeployJob): { api: SourceApi; claim: SourceClaim } | string | undefined => {
    if (!CONFIRMED_REASONS.includes(job.reason)) return undefined;
    const app = config.apps[job.app];
    const environment = app?.environments[job.environment];
    if (!app || !environment) return undefined; // refuse-job.ts refuses these before any stage
    const api = apis[app.source.provider];
    if (!api) return undefined;
    const claim = claimOf(job, app, environment.branch ?? app.source.branch);
    return typeof claim === 'string' ? claim : { api, claim };
  };
  return {
    async confirmSource(job) {
      const asked = ask(job);
      if (asked === undefined || typeof asked === 'string') return asked;
      try {
        await asked.api.confirm(asked.claim);
        return undefined;
      } catch (err) {
        if (err instanceof SourceRefused) return err.message;
        throw err;
      }
    },
    async branchHead(job) {
      const asked = ask(job);
      if (asked === undefined || typeof asked === 'string' || asked.claim.refKind !== 'branch') return undefined;
      // A refusal (401/403, a deleted branch) is left to confirmSource, which runs before the commit.
      return asked.api
        .head(asked.claim)
        .catch((err: unknown) => (err instanceof SourceRefused ? undefined : Promise.reject(err)));
    },
  };
}

/** What to ask, from fjord.yaml and the job's checked fields; a string when the job cannot be a claim of this app. */
function claimOf(job: DeployJob, app: Config['apps'][string], branch: string): SourceClaim | string {
  const { provider, project } = app.source;
  const name = providerName({ provider });
  if (job.source.provider !== provider)
    return `app ${job.app} deploys from ${name}, not from a ${quoted(job.source.provider)} event`;
  if (job.source.project?.toLowerCase() !== project.toLowerCase())
    return `the event names project ${quoted(job.source.project ?? '')}, not apps.${job.app}.source.project (${project})`;
  const { ref } = job.source;
  if (!job.sha || !ref) return `the ${name} event names no ${job.sha ? 'ref' : 'sha'} to confirm`;
  // matchApps queues a branch only for the environment's own branch; any other ref is a pushed git tag.
  const refKind = ref === branch ? 'branch' : 'tag';
  if (refKind === 'tag' && !app.source.tags)
    return `ref ${quoted(ref)} is not branch ${branch} of ${job.app}/${job.environment}, and apps.${job.app}.source.tags is off`;
  if (job.reason === 'merge' && job.source.mr === undefined)
    return `the ${name} merge event names no merge request to confirm`;
  return { provider, project, sha: job.sha, ref, refKind, ...(job.reason === 'merge' ? { mr: job.source.mr! } : {}) };
}

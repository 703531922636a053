/**
 * `Notifier` for GitHub (@octokit/rest), reporting on the app's repository (`job.source.project`, `owner/repo`)
 * what gitlab.ts reports on GitLab, in GitHub's terms:
 * - a commit status `fjord/<env>` on `job.sha` (github-status.ts): `pending` at start, `pending` "rolling
 *   out …" once the rollout starts (once per job), then `success` / `failure` / `error`, linking to the PR comment;
 * - one comment on the merged pull request (`job.source.mr`) with the job's timeline, the same body and
 *   hidden marker as the GitLab note (render-note.ts), edited in place (github-comments.ts);
 * - a Deployment for the environment (docs.github.com/en/rest/deployments/deployments#create-a-deployment)
 *   of `ref: sha`, with no auto-merge and no required contexts (fjord deploys what was merged, it does not
 *   gate on CI), then deployment statuses `in_progress` → `success` / `failure` / `inactive`, whose
 *   `log_url` is the PR comment. A redelivered job finds its deployment again by the job id in its payload.
 * Jobs lacking a sha, project, PR or ref skip what they cannot address. Nothing here throws.
 */
import type { Octokit } from '@octokit/rest';
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import type { Outcome } from '../worker/outcome.js';
import { GithubComments, splitRepository } from './github-comments.js';
import {
  githubDeploymentStateOf,
  githubStatusOf,
  statusDescription,
  type GithubDeploymentState,
  type GithubStatusState,
} from './github-status.js';
import { swallow, type Notifier } from './notifier.js';
import { noteMarker, renderFinishedNote, renderStartedNote, renderWaitingNote } from './render-note.js';
import type { Timeline } from './timeline.js';

export interface GithubNotifierOptions {
  octokit: Octokit;
  logger: Logger;
  /** Web address of a manifest commit, when the manifest repository has one. */
  commitUrl?: (id: string) => string | undefined;
}

export class GithubNotifier implements Notifier {
  readonly #octokit: Octokit;
  readonly #logger: Logger;
  readonly #commitUrl: ((id: string) => string | undefined) | undefined;
  readonly #comments: GithubComments;
  /** Deployment ids by job id: saves a lookup after `jobStarted`. */
  readonly #deploymentIds = new Map<string, number>();
  /** Jobs whose "rolling out" status is posted: each further batch would add an identical one. */
  readonly #rolling = new Set<string>();

  constructor({ octokit, logger, commitUrl }: GithubNotifierOptions) {
    this.#octokit = octokit;
    this.#logger = logger;
    this.#commitUrl = commitUrl;
    this.#comments = new GithubComments(octokit);
  }

  async jobStarted(job: DeployJob, timeline?: Timeline): Promise<void> {
    const log = this.#log(job);
    // The comment first: the status and the deployment then link to it.
    await swallow(log, 'pull request comment', () => this.#comment(job, renderStartedNote(job, timeline)));
    await Promise.all([
      swallow(log, 'commit status', () => this.#status(job, 'pending', `waiting to deploy ${job.tag}`)),
      swallow(log, 'deployment', () => this.#deploymentStart(job)),
    ]);
  }

  async jobProgress(job: DeployJob, timeline: Timeline): Promise<void> {
    const log = this.#log(job);
    await swallow(log, 'pull request comment', () => this.#comment(job, renderStartedNote(job, timeline)));
    if (!timeline.has('rollout') || this.#rolling.has(job.id)) return;
    this.#rolling.add(job.id);
    await swallow(log, 'commit status', () => this.#status(job, 'pending', `rolling out ${job.tag}`));
  }

  async jobFinished(job: DeployJob, outcome: Outcome, timeline?: Timeline): Promise<void> {
    const log = this.#log(job);
    this.#rolling.delete(job.id);
    const commitUrl = this.#commitUrl;
    const body = renderFinishedNote(job, outcome, {
      ...(commitUrl ? { commitUrl: (id: string) => commitUrl(id) ?? '' } : {}),
      ...(timeline ? { timeline } : {}),
    });
    await swallow(log, 'pull request comment', () => this.#comment(job, body));
    const description = `${outcome.status}${outcome.detail ? `: ${outcome.detail}` : ''}`;
    await Promise.all([
      swallow(log, 'commit status', () => this.#status(job, githubStatusOf(outcome), description)),
      swallow(log, 'deployment', () => this.#deploymentEnd(job, githubDeploymentStateOf(outcome), description)),
    ]);
  }

  /** A gate holds the job (a freeze, approvals): the comment says why, the status is `pending` with the reason; no Deployment yet. */
  async jobWaiting(job: DeployJob, { reason }: { until: Date; reason: string }): Promise<void> {
    const log = this.#log(job);
    await swallow(log, 'pull request comment', () => this.#comment(job, renderWaitingNote(job, reason)));
    await swallow(log, 'commit status', () => this.#status(job, 'pending', reason));
  }

  #log(job: DeployJob): Logger {
    return this.#logger.child({ job: job.id, app: job.app, environment: job.environment });
  }

  #commentUrl(job: DeployJob): string | undefined {
    const { project, mr } = job.source;
    return project && mr ? this.#comments.urlOf(project, mr, noteMarker(job)) : undefined;
  }

  async #comment(job: DeployJob, body: string): Promise<void> {
    const { project, mr } = job.source;
    if (project && mr) await this.#comments.upsert(project, mr, noteMarker(job), body);
  }

  async #status(job: DeployJob, state: GithubStatusState, description: string): Promise<void> {
    const { project } = job.source;
    if (!project || !job.sha) return;
    const url = this.#commentUrl(job);
    await this.#octokit.rest.repos.createCommitStatus({
      ...splitRepository(project),
      sha: job.sha,
      state,
      context: `fjord/${job.environment}`,
      description: statusDescription(description),
      ...(url ? { target_url: url } : {}),
    });
  }

  async #deploymentStart(job: DeployJob): Promise<void> {
    const { project } = job.source;
    if (!project || !job.sha) return;
    const id =
      this.#deploymentIds.get(job.id) ?? (await this.#findDeployment(job)) ?? (await this.#createDeployment(job));
    this.#deploymentIds.set(job.id, id);
    await this.#deploymentStatus(job, id, 'in_progress', `deploying ${job.tag}`);
  }

  async #deploymentEnd(job: DeployJob, state: GithubDeploymentState, description: string): Promise<void> {
    const { project } = job.source;
    if (!project || !job.sha) return;
    // A job that finished without jobStarted reaching GitHub still leaves its record, in its final state.
    const id =
      this.#deploymentIds.get(job.id) ?? (await this.#findDeployment(job)) ?? (await this.#createDeployment(job));
    this.#deploymentIds.delete(job.id);
    await this.#deploymentStatus(job, id, state, description);
  }

  /** The deployment an earlier delivery of this same job made (its payload names the job), newest first. */
  async #findDeployment(job: DeployJob): Promise<number | undefined> {
    const { data } = await this.#octokit.rest.repos.listDeployments({
      ...splitRepository(job.source.project!),
      sha: job.sha!,
      environment: job.environment,
      per_page: 100,
    });
    return data.find((d) => (d.payload as { fjordJob?: unknown } | null)?.fjordJob === job.id)?.id;
  }

  async #createDeployment(job: DeployJob): Promise<number> {
    const res = await this.#octokit.rest.repos.createDeployment({
      ...splitRepository(job.source.project!),
      ref: job.sha!,
      environment: job.environment,
      auto_merge: false,
      required_contexts: [],
      payload: { fjordJob: job.id, app: job.app, image: job.image, tag: job.tag },
      description: statusDescription(`${job.app}: ${job.image}:${job.tag}`),
    });
    // 202 is GitHub's "merged the default branch first" answer, which auto_merge: false rules out.
    if (!('id' in res.data)) throw new Error(`GitHub made no deployment: ${String(res.data.message ?? res.status)}`);
    return res.data.id;
  }

  async #deploymentStatus(
    job: DeployJob,
    id: number,
    state: GithubDeploymentState,
    description: string,
  ): Promise<void> {
    const url = this.#commentUrl(job);
    await this.#octokit.rest.repos.createDeploymentStatus({
      ...splitRepository(job.source.project!),
      deployment_id: id,
      state,
      description: statusDescription(description),
      ...(url ? { log_url: url } : {}),
    });
  }
}

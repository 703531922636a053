/**
 * `Notifier` for GitLab (@gitbeaker/rest), reporting on the app's source project (`job.source.project`):
 * - a commit status `fjord/<env>` on `job.sha`: `pending` at start, `running` once the rollout starts, then
 *   `success` / `failed` / `canceled` (gitlab-status.ts says which outcome maps to which, and why);
 * - one note on the merged MR (`job.source.mr`) with the job's timeline, updated as it grows, found again by
 *   its hidden marker and edited in place, so a redelivered or repeated job never adds a second one —
 *   …/api/notes.html#merge-requests;
 * - a Deployment for the environment, created `running` and updated to its final status — …/api/deployments.html.
 * Jobs lacking a sha, project, MR or ref (CLI, converge) skip what they cannot address. Nothing here throws.
 */
import { gitlabClientOptions } from '../gitlab-client.js';
import { Commits, Deployments, MergeRequestNotes } from '@gitbeaker/rest';
import { hideAddresses } from '../hide-addresses.js';
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import type { Secret } from '../secret.js';
import type { Outcome } from '../worker/outcome.js';
import { CommitStatusReporter, deploymentStateOf, finalStateOf, type FinalState } from './gitlab-status.js';
import { gitlabUrls } from './links.js';
import { swallow, type Notifier } from './notifier.js';
import { noteMarker, renderFinishedNote, renderStartedNote, renderWaitingNote } from './render-note.js';
import type { Timeline } from './timeline.js';

export interface GitlabNotifierOptions {
  /** GitLab base URL; the API is `<url>/api/v4`. */
  url: string;
  token: Secret;
  logger: Logger;
  /** Manifest project path: makes the manifest commit in the note a link. */
  manifestProject?: string;
  timeoutMs?: number;
  /** The configured hosts' addresses: kept out of notes and statuses with every IP literal (lib/hide-addresses.ts). */
  addresses?: readonly string[];
}

export class GitlabNotifier implements Notifier {
  readonly #urls: ReturnType<typeof gitlabUrls>;
  readonly #logger: Logger;
  readonly #manifestProject: string | undefined;
  readonly #statuses: CommitStatusReporter;
  readonly #notes: MergeRequestNotes<false>;
  readonly #deployments: Deployments<false>;
  /** Note and deployment ids this process made, by marker key: saves a lookup on `jobFinished`. */
  readonly #noteIds = new Map<string, number>();
  readonly #deploymentIds = new Map<string, number>();
  /** MR readers are not the fleet's operators: internal `address:port` stays out (issue 12, item 5). */
  readonly #hide: (text: string) => string;

  constructor({ url, token, logger, manifestProject, timeoutMs = 10_000, addresses = [] }: GitlabNotifierOptions) {
    this.#urls = gitlabUrls(url);
    // Links into GitLab itself stay: the reader is on it.
    this.#hide = (text) => hideAddresses(text, addresses, [this.#urls.root]);
    this.#logger = logger;
    this.#manifestProject = manifestProject;
    // A token function: the raw value is read per request and never stored on the client objects.
    const options = gitlabClientOptions({ host: this.#urls.root, token, timeoutMs });
    this.#statuses = new CommitStatusReporter(new Commits<false>(options));
    this.#notes = new MergeRequestNotes<false>(options);
    this.#deployments = new Deployments<false>(options);
  }

  async jobStarted(job: DeployJob, timeline?: Timeline): Promise<void> {
    const log = this.#log(job);
    await Promise.all([
      swallow(log, 'commit status', () => this.#statuses.set(job, 'pending', `waiting to deploy ${job.tag}`)),
      swallow(log, 'merge request note', () => this.#note(job, renderStartedNote(job, timeline))),
      swallow(log, 'deployment', () => this.#deploymentStart(job)),
    ]);
  }

  /** The note follows the timeline; the status turns `running` once the rollout has started. */
  async jobProgress(job: DeployJob, timeline: Timeline): Promise<void> {
    const log = this.#log(job);
    // The note first: the status then links to it.
    await swallow(log, 'merge request note', () => this.#note(job, renderStartedNote(job, timeline)));
    if (timeline.has('rollout'))
      await swallow(log, 'commit status', () =>
        this.#statuses.set(job, 'running', `rolling out ${job.tag}`, this.#noteUrl(job)),
      );
  }

  async jobFinished(job: DeployJob, outcome: Outcome, timeline?: Timeline): Promise<void> {
    const log = this.#log(job);
    const project = this.#manifestProject;
    const commitUrl = project ? (id: string) => this.#urls.commit(project, id) : undefined;
    // The note first: the final status then links to it.
    await swallow(log, 'merge request note', () =>
      this.#note(job, renderFinishedNote(job, outcome, { commitUrl, ...(timeline ? { timeline } : {}) })),
    );
    await Promise.all([
      swallow(log, 'commit status', () =>
        this.#statuses.set(
          job,
          finalStateOf(outcome),
          this.#hide(`${outcome.status}${outcome.detail ? `: ${outcome.detail}` : ''}`),
          this.#noteUrl(job),
        ),
      ),
      swallow(log, 'deployment', () => this.#deploymentEnd(job, deploymentStateOf(outcome))),
    ]);
  }

  /**
   * `pending` with the wait as its description ("waiting for the freeze to end at …"), and the note says
   * until when. No Deployment yet: nothing reaches the environment while it waits.
   */
  async jobWaiting(job: DeployJob, { reason }: { until: Date; reason: string }): Promise<void> {
    const log = this.#log(job);
    await swallow(log, 'merge request note', () => this.#note(job, renderWaitingNote(job, reason)));
    await swallow(log, 'commit status', () =>
      this.#statuses.set(job, 'pending', this.#hide(reason), this.#noteUrl(job)),
    );
  }

  #log(job: DeployJob): Logger {
    return this.#logger.child({ job: job.id, app: job.app, environment: job.environment });
  }

  /** The MR note's address (`…/merge_requests/<iid>#note_<id>`) once this process knows its id. */
  #noteUrl(job: DeployJob): string | undefined {
    const { project, mr } = job.source;
    const id = project && mr ? this.#noteIds.get(`${project}!${mr}${noteMarker(job)}`) : undefined;
    return id === undefined ? undefined : `${this.#urls.mergeRequest(project!, mr!)}#note_${id}`;
  }

  /** Edits the note carrying this job's marker, or creates it. */
  async #note(job: DeployJob, text: string): Promise<void> {
    const { project, mr } = job.source;
    if (!project || !mr) return;
    const body = this.#hide(text);
    const marker = noteMarker(job);
    const key = `${project}!${mr}${marker}`;
    let id = this.#noteIds.get(key);
    if (id === undefined) {
      // Newest first; fjord's note is usually recent. One page of 100 bounds the cost.
      const notes = await this.#notes.all(project, mr, { sort: 'desc', orderBy: 'created_at', perPage: 100, page: 1 });
      id = notes.find((n) => typeof n.body === 'string' && n.body.includes(marker))?.id;
    }
    if (id !== undefined) await this.#notes.edit(project, mr, id, { body });
    else id = (await this.#notes.create(project, mr, body)).id;
    this.#noteIds.set(key, id);
  }

  async #deploymentStart(job: DeployJob): Promise<void> {
    const target = deploymentTarget(job);
    if (!target) return;
    if (this.#deploymentIds.has(target.key)) return; // a retry of the same job in this process
    const d = await this.#deployments.create(target.project, job.environment, target.sha, target.ref, false, {
      status: 'running',
    });
    this.#deploymentIds.set(target.key, d.id);
  }

  /** Updates the deployment this job started (remembered, or the newest running one for this sha), else
   *  records one directly in its final state. */
  async #deploymentEnd(job: DeployJob, status: FinalState): Promise<void> {
    const target = deploymentTarget(job);
    if (!target) return;
    let id = this.#deploymentIds.get(target.key);
    if (id === undefined) {
      const running = await this.#deployments.all(target.project, {
        environment: job.environment,
        status: 'running',
        orderBy: 'id',
        sort: 'desc',
        perPage: 100,
        page: 1,
      });
      id = running.find((d) => d.sha === target.sha)?.id;
    }
    if (id !== undefined) await this.#deployments.edit(target.project, id, status);
    else await this.#deployments.create(target.project, job.environment, target.sha, target.ref, false, { status });
    this.#deploymentIds.delete(target.key);
  }
}

function deploymentTarget(job: DeployJob): { project: string; sha: string; ref: string; key: string } | undefined {
  const { project, ref } = job.source;
  if (!project || !job.sha || !ref) return undefined;
  return { project, sha: job.sha, ref, key: `${project}/${job.environment}/${job.sha}` };
}

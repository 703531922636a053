/**
 * Promotion (issue 4, item 6): an environment with `promoteFrom: <env>` gets a job only after that
 * environment's rollout of the same tag succeeded — queued at once (`promote: auto`), or proposed as a
 * merge request in the manifest repository (`promote: mr`), whose merge converges it. A deploy held in a
 * merge request (`writeBack: mr`, or a `promote: mr` proposal) promotes once that merge's converge rolled it out.
 */
import { randomUUID } from 'node:crypto';
import type { DeployJob, Reason } from '../job.js';
import type { HistoryEntry } from '../manifest/store.js';
import { bumpTag } from '../manifest/index.js';
import { buildCommitMessage } from '../manifest/commit-message.js';
import { mergeRequestBranch } from '../manifest/store.js';
import { WRITE_BACK_TRAILER } from '../manifest/trailers.js';
import type { DeployPorts } from './ports.js';
import type { JobContext } from './worker-loop.js';

export interface Promotion {
  environment: string;
  mode: 'auto' | 'mr';
  /** `queued`, `proposed <branch or MR URL>`, or why it did not happen. */
  result: string;
}

/** Reasons whose successful rollout promotes downstream environments. */
export const PROMOTING_REASONS: readonly Reason[] = ['merge', 'push', 'pipeline', 'manual', 'promote'];

/** Whether `head` (the environment file's last commit) is fjord's own proposal of `tag` for `job`'s environment, merged: its converge is that deploy's rollout. */
export function isMergedProposal(
  head: HistoryEntry | undefined,
  job: Pick<DeployJob, 'app' | 'environment'>,
  tag: string,
): boolean {
  const t = head?.trailers ?? {};
  return (
    t[WRITE_BACK_TRAILER] === 'mr' &&
    t['Fjord-App'] === job.app &&
    t['Fjord-Environment'] === job.environment &&
    t['Fjord-Tag'] === tag &&
    PROMOTING_REASONS.includes(t['Fjord-Reason'] as Reason)
  );
}

export async function promote(job: DeployJob, ports: DeployPorts, ctx: JobContext): Promise<Promotion[]> {
  const app = ports.config.apps[job.app]!;
  const out: Promotion[] = [];
  for (const [name, env] of Object.entries(app.environments)) {
    if (env.promoteFrom !== job.environment) continue;
    const next: DeployJob = {
      ...job,
      id: randomUUID(),
      environment: name,
      reason: 'promote',
      enqueuedAt: new Date().toISOString(),
    };
    try {
      if (env.promote === 'auto') {
        if (!ports.enqueue) {
          out.push({
            environment: name,
            mode: 'auto',
            result: `not queued here: run fjord deploy ${job.app} ${name} --tag ${job.tag}`,
          });
          continue;
        }
        await ports.enqueue(next);
        out.push({ environment: name, mode: 'auto', result: 'queued' });
      } else {
        const file = await ports.store.read(env.manifest.file);
        const bumped = bumpTag(file.content, env.manifest, job.tag);
        if (!bumped.changed) {
          out.push({ environment: name, mode: 'mr', result: `already at ${job.tag}` });
          continue;
        }
        const message = buildCommitMessage(next, {
          template: ports.config.manifest.commitMessage,
          trailers: { [WRITE_BACK_TRAILER]: 'mr' },
        });
        const mr = await ports.store.openMergeRequest({
          file: env.manifest.file,
          content: bumped.text,
          message,
          title: `promote ${job.app} ${job.tag} to ${name}`,
          description: `${job.environment} rolled out ${job.image}:${job.tag} successfully (job ${job.id}). Merging this converges ${name}.`,
          sourceBranch: mergeRequestBranch(job.app, name, job.tag),
          baseCommitId: file.headId,
        });
        out.push({ environment: name, mode: 'mr', result: `proposed ${mr.webUrl ?? mr.sourceBranch}` });
      }
    } catch (err) {
      // A failed promotion does not undo the deploy that succeeded; it is reported.
      ctx.logger.warn('promotion failed', { environment: name, error: err });
      out.push({ environment: name, mode: env.promote, result: `failed: ${(err as Error).message}` });
    }
  }
  return out;
}

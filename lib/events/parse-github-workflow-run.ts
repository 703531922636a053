/**
 * GitHub's equivalent of a successful GitLab pipeline (trigger `pipeline`): a `workflow_run` event with
 * action `completed` and conclusion `success` (docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_run).
 * Runs of code that is not on the branch yet are ignored, as GitLab's merge request pipelines are: runs for
 * `pull_request`/`pull_request_target` events, and runs whose head repository is another one (a fork's
 * branch may well be called `main`). `head_branch` names a branch (GitHub gives no ref type here), so a
 * tag's workflow run is matched as a branch of that name. Shapes as in @octokit/webhooks-examples.
 */
import * as z from 'zod';
import { isoTime, parseShape, quote, type Ignored, type SourceEvent } from './event.js';

const PR_EVENTS: ReadonlySet<string> = new Set([
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment',
  'merge_group',
]);

const runState = z.object({
  action: z.string(),
  workflow_run: z.object({ conclusion: z.string().nullish(), event: z.string() }),
});
const workflowRunEvent = z.object({
  workflow_run: z.object({
    head_branch: z.string(),
    head_sha: z.string(),
    head_repository: z.object({ full_name: z.string() }).nullish(),
    head_commit: z.object({ timestamp: z.string().nullish() }).nullish(),
    created_at: z.string().nullish(),
    run_started_at: z.string().nullish(),
    actor: z.object({ login: z.string() }).nullish(),
  }),
  repository: z.object({ full_name: z.string() }),
  sender: z.object({ login: z.string() }).nullish(),
});

/** Why a workflow run or check suite (`what`) is no pipeline success, or undefined when it is one. */
export function notSucceeded(what: string, action: string, conclusion: string | null | undefined): Ignored | undefined {
  if (action !== 'completed') return { ignored: `${what} ${quote(action)}, not completed` };
  if (conclusion !== 'success') return { ignored: `${what} conclusion ${quote(conclusion ?? 'none')}, not success` };
  return undefined;
}

/** The pipeline event of a successful workflow run on a branch of the repository itself, or why there is none. */
export function workflowRun(payload: unknown): SourceEvent | Ignored {
  const state = parseShape(runState, payload);
  const failed = notSucceeded('workflow run', state.action, state.workflow_run.conclusion);
  if (failed) return failed;
  if (PR_EVENTS.has(state.workflow_run.event))
    return { ignored: `workflow run for ${quote(state.workflow_run.event)} (not merged code)` };
  const p = parseShape(workflowRunEvent, payload);
  const run = p.workflow_run;
  const head = run.head_repository?.full_name;
  if (head && head.toLowerCase() !== p.repository.full_name.toLowerCase())
    return { ignored: `workflow run of ${quote(head)}, not of the repository itself` };
  const actor = run.actor?.login;
  return {
    provider: 'github',
    trigger: 'pipeline',
    project: p.repository.full_name,
    ref: { type: 'branch', name: run.head_branch },
    sha: run.head_sha,
    author: actor ?? p.sender?.login,
    // Runs may finish out of order; when each (latest attempt) started orders them, as GitLab pipelines are
    // ordered by created_at: a re-run of an older commit's workflow is a newer intent (issue 12, item 3).
    committedAt: isoTime(run.run_started_at) ?? isoTime(run.created_at) ?? isoTime(run.head_commit?.timestamp),
    paths: {
      project: 'repository.full_name',
      ref: 'workflow_run.head_branch',
      sha: 'workflow_run.head_sha',
      author: actor ? 'workflow_run.actor.login' : 'sender.login',
    },
    payload,
  };
}

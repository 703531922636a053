/**
 * GitHub webhook bodies → SourceEvent: `pull_request` closed and merged, and `push`; open pull requests for
 * plans (parse-github-plan.ts); successful workflow runs (parse-github-workflow-run.ts) and check suites (parse-github-check-suite.ts). zod schemas hold
 * only the fields fjord uses (shapes as in @octokit/webhooks-examples).
 */
import { parseGithubComment } from './parse-github-comment.js';
import * as z from 'zod';
import { isNullSha, isoTime, parseRef, parseShape, quote, type Ignored, type SourceEvent } from './event.js';
import { openPullRequestEvent, PLAN_PR_ACTIONS } from './parse-github-plan.js';
import { workflowRun } from './parse-github-workflow-run.js';
import { checkSuite } from './parse-github-check-suite.js';

const repository = z.object({ full_name: z.string() });
const login = z.object({ login: z.string() }).nullish();

const pullRequestState = z.object({ action: z.string(), pull_request: z.object({ merged: z.boolean().nullish() }) });
const pullRequestEvent = z.object({
  number: z.number().int().positive(),
  pull_request: z.object({
    merge_commit_sha: z.string().nullish(),
    base: z.object({ ref: z.string() }),
    merged_by: login,
    merged_at: z.string().nullish(),
  }),
  repository,
  sender: login,
});

const pushEvent = z.object({
  ref: z.string(),
  after: z.string(),
  before: z.string().nullish(),
  deleted: z.boolean().nullish(),
  head_commit: z.object({ timestamp: z.string().nullish() }).nullish(),
  repository,
  sender: login,
});

/** Whether a body with this `X-GitHub-Event` header is worth parsing at all. */
export function githubEventIsRead(header: string | undefined): boolean {
  return (
    header === 'pull_request' ||
    header === 'push' ||
    header === 'workflow_run' ||
    header === 'check_suite' ||
    header === 'issue_comment'
  );
}

/** Parses a GitHub webhook body (already JSON-parsed) given its `X-GitHub-Event` header. */
export function parseGithub(header: string | undefined, payload: unknown): SourceEvent | Ignored {
  if (header === 'pull_request') return pullRequest(payload);
  if (header === 'push') return push(payload);
  if (header === 'workflow_run') return workflowRun(payload);
  if (header === 'check_suite') return checkSuite(payload);
  if (header === 'issue_comment') return parseGithubComment(payload);
  return { ignored: `GitHub event ${quote(header ?? 'unknown')} is not one fjord acts on` };
}

function pullRequest(payload: unknown): SourceEvent | Ignored {
  const state = parseShape(pullRequestState, payload);
  if (PLAN_PR_ACTIONS.has(state.action)) return openPullRequestEvent(payload);
  if (state.action !== 'closed')
    return {
      ignored: `pull request action ${quote(state.action)}: fjord acts on closed (deploy) and opened, reopened, synchronize (plan)`,
    };
  if (state.pull_request.merged !== true) return { ignored: 'pull request closed without merging' };
  const p = parseShape(pullRequestEvent, payload);
  const mergedBy = p.pull_request.merged_by?.login;
  return {
    provider: 'github',
    trigger: 'merge',
    project: p.repository.full_name,
    ref: { type: 'branch', name: p.pull_request.base.ref },
    // For merge, squash and rebase merges alike, the commit now at the head of the base branch.
    sha: p.pull_request.merge_commit_sha ?? undefined,
    mr: p.number,
    author: mergedBy ?? p.sender?.login,
    committedAt: isoTime(p.pull_request.merged_at),
    paths: {
      project: 'repository.full_name',
      ref: 'pull_request.base.ref',
      sha: 'pull_request.merge_commit_sha',
      mr: 'number',
      author: mergedBy ? 'pull_request.merged_by.login' : 'sender.login',
    },
    payload,
  };
}

function push(payload: unknown): SourceEvent | Ignored {
  const p = parseShape(pushEvent, payload);
  const ref = parseRef(p.ref);
  if (!ref) return { ignored: `push to ${quote(p.ref)}: neither a branch nor a tag` };
  if (p.deleted || isNullSha(p.after)) return { ignored: `${ref.type} ${quote(ref.name)} deleted` };
  return {
    provider: 'github',
    trigger: 'push',
    project: p.repository.full_name,
    ref,
    sha: p.after,
    author: p.sender?.login,
    committedAt: isoTime(p.head_commit?.timestamp),
    ...(p.before ? { before: p.before } : {}),
    paths: { project: 'repository.full_name', ref: 'ref', sha: 'after', author: 'sender.login' },
    payload,
  };
}

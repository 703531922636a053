/**
 * A `check_suite` event (docs.github.com/en/webhooks/webhook-events-and-payloads#check_suite) handled like a
 * successful `workflow_run` (parse-github-workflow-run.ts), for CI that reports as a GitHub App's checks
 * rather than as an Actions workflow: action `completed` with conclusion `success` is trigger `pipeline`.
 * A suite of a fork's branch has `head_branch: null` (and no pull requests): not code on the repository's
 * branches, ignored. Suites are ordered by when they were created (a suite is re-run in place, so a re-run
 * of an older commit stays older). Each app that checks a commit sends its own suite: the queue's
 * `<app>/<env>/<sha>` dedup id, then the worker's idempotence, make the second one a no-op.
 */
import * as z from 'zod';
import { isoTime, parseShape, type Ignored, type SourceEvent } from './event.js';
import { notSucceeded } from './parse-github-workflow-run.js';

const suiteState = z.object({ action: z.string(), check_suite: z.object({ conclusion: z.string().nullish() }) });
const checkSuiteEvent = z.object({
  check_suite: z.object({
    head_branch: z.string().nullish(),
    head_sha: z.string(),
    created_at: z.string().nullish(),
    head_commit: z.object({ timestamp: z.string().nullish() }).nullish(),
    app: z.object({ slug: z.string().nullish() }).nullish(),
  }),
  repository: z.object({ full_name: z.string() }),
  sender: z.object({ login: z.string() }).nullish(),
});

/** The pipeline event of a successful check suite on a branch of the repository itself, or why there is none. */
export function checkSuite(payload: unknown): SourceEvent | Ignored {
  const state = parseShape(suiteState, payload);
  const failed = notSucceeded('check suite', state.action, state.check_suite.conclusion);
  if (failed) return failed;
  const p = parseShape(checkSuiteEvent, payload);
  const suite = p.check_suite;
  if (!suite.head_branch) return { ignored: "check suite without a head branch (a fork's, not the repository's)" };
  return {
    provider: 'github',
    trigger: 'pipeline',
    project: p.repository.full_name,
    ref: { type: 'branch', name: suite.head_branch },
    sha: suite.head_sha,
    author: p.sender?.login,
    committedAt: isoTime(suite.created_at) ?? isoTime(suite.head_commit?.timestamp),
    paths: {
      project: 'repository.full_name',
      ref: 'check_suite.head_branch',
      sha: 'check_suite.head_sha',
      author: 'sender.login',
    },
    payload,
  };
}

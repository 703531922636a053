/**
 * GitHub `pull_request` events that ask for a plan (issue 7, item 3): `opened`, `reopened`, and
 * `synchronize` (new commits pushed to the head branch). Shapes as in @octokit/webhooks-examples.
 */
import * as z from 'zod';
import { parseShape, quote, type Ignored, type SourceEvent } from './event.js';

export const PLAN_PR_ACTIONS: ReadonlySet<string> = new Set(['opened', 'reopened', 'synchronize']);

const openPullRequest = z.object({
  number: z.number().int().positive(),
  pull_request: z.object({
    state: z.string().nullish(),
    head: z.object({ sha: z.string() }),
    base: z.object({ ref: z.string() }),
  }),
  repository: z.object({ full_name: z.string() }),
  sender: z.object({ login: z.string() }).nullish(),
});

/** The plan event of an open pull request, or why there is none. */
export function openPullRequestEvent(payload: unknown): SourceEvent | Ignored {
  const p = parseShape(openPullRequest, payload);
  const state = p.pull_request.state;
  if (state && state !== 'open') return { ignored: `pull request is ${quote(state)}, not open` };
  return {
    provider: 'github',
    trigger: 'plan',
    project: p.repository.full_name,
    ref: { type: 'branch', name: p.pull_request.base.ref },
    sha: p.pull_request.head.sha,
    mr: p.number,
    author: p.sender?.login,
    paths: {
      project: 'repository.full_name',
      ref: 'pull_request.base.ref',
      sha: 'pull_request.head.sha',
      mr: 'number',
      author: 'sender.login',
    },
    payload,
  };
}

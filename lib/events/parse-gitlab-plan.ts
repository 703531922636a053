/**
 * GitLab `Merge Request Hook` bodies that ask for a plan (issue 7, item 3): `open`, `reopen`, and `update`
 * when new commits arrived — GitLab sets `object_attributes.oldrev` only then, so title, label and
 * description edits are ignored (doc/user/project/integrations/webhook_events.md#merge-request-events).
 */
import * as z from 'zod';
import { parseShape, quote, type Ignored, type SourceEvent } from './event.js';

export const PLAN_ACTIONS: ReadonlySet<string> = new Set(['open', 'reopen', 'update']);

const openHook = z.object({
  object_kind: z.literal('merge_request'),
  user: z.object({ name: z.string().nullish(), username: z.string().nullish() }).nullish(),
  project: z.object({ path_with_namespace: z.string() }),
  object_attributes: z.object({
    iid: z.number().int().positive(),
    target_branch: z.string(),
    state: z.string().nullish(),
    oldrev: z.string().nullish(),
    last_commit: z.object({ id: z.string() }).nullish(),
  }),
});

/** The plan event of an open MR, or why there is none. */
export function openMergeRequest(payload: unknown, action: string): SourceEvent | Ignored {
  const p = parseShape(openHook, payload);
  const a = p.object_attributes;
  if (action === 'update' && !a.oldrev) return { ignored: 'merge request update without new commits' };
  if (a.state && a.state !== 'opened') return { ignored: `merge request is ${quote(a.state)}, not opened` };
  return {
    provider: 'gitlab',
    trigger: 'plan',
    project: p.project.path_with_namespace,
    ref: { type: 'branch', name: a.target_branch },
    // The MR's head commit: what a fast-forward or rebase merge deploys (a merge commit gets its own tag).
    sha: a.last_commit?.id,
    mr: a.iid,
    author: p.user?.name ?? p.user?.username ?? undefined,
    paths: {
      project: 'project.path_with_namespace',
      ref: 'object_attributes.target_branch',
      sha: 'object_attributes.last_commit.id',
      mr: 'object_attributes.iid',
      author: p.user?.name ? 'user.name' : 'user.username',
    },
    payload,
  };
}

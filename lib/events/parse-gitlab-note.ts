/**
 * GitLab `Note Hook` bodies on merge requests (docs.gitlab.com/user/project/integrations/webhook_events/#comment-events):
 * `object_kind: "note"`, `object_attributes.noteable_type: "MergeRequest"`, the text in
 * `object_attributes.note`, the thread in `object_attributes.discussion_id`, the commenter in `user`, the
 * MR in `merge_request`. A note that does not start with `/fjord` is ignored; one that does becomes a
 * `command` event (values still raw: route-command.ts holds them to their grammar).
 */
import * as z from 'zod';
import { isCommand } from '../commands/parse-command.js';
import { quote, type Ignored, type SourceEvent } from './event.js';

const noteHook = z.object({
  object_kind: z.literal('note'),
  user: z.object({ id: z.number().int().positive(), username: z.string() }),
  project: z.object({ path_with_namespace: z.string() }),
  object_attributes: z.object({
    id: z.number().int().positive(),
    note: z.string(),
    noteable_type: z.string(),
    discussion_id: z.string().nullish(),
    system: z.boolean().nullish(),
  }),
  merge_request: z
    .object({
      iid: z.number().int().positive(),
      target_branch: z.string(),
      last_commit: z.object({ id: z.string() }).nullish(),
    })
    .nullish(),
});

export function parseGitlabNote(payload: unknown): SourceEvent | Ignored {
  // A comment is never worth a 4xx to GitLab (it disables hooks that keep failing): a body without the
  // fields of an MR comment is ignored, like any comment fjord does not act on.
  const parsed = noteHook.safeParse(payload);
  if (!parsed.success)
    return {
      ignored: `GitLab note without ${parsed.error.issues[0]!.path.join('.') || 'a body'}: not a merge request comment fjord can answer`,
    };
  const p = parsed.data;
  const a = p.object_attributes;
  if (a.noteable_type !== 'MergeRequest' || !p.merge_request)
    return { ignored: `comment on a ${quote(a.noteable_type)}, not a merge request` };
  if (a.system) return { ignored: 'system note' };
  if (!isCommand(a.note)) return { ignored: 'comment is not a /fjord command' };
  const mr = p.merge_request;
  return {
    provider: 'gitlab',
    trigger: 'command',
    project: p.project.path_with_namespace,
    ref: { type: 'branch', name: mr.target_branch },
    sha: mr.last_commit?.id,
    mr: mr.iid,
    author: p.user.username,
    command: {
      text: a.note,
      userId: p.user.id,
      username: p.user.username,
      noteId: a.id,
      discussionId: a.discussion_id ?? undefined,
    },
    paths: {
      project: 'project.path_with_namespace',
      ref: 'merge_request.target_branch',
      sha: 'merge_request.last_commit.id',
      mr: 'merge_request.iid',
      author: 'user.username',
    },
    payload,
  };
}

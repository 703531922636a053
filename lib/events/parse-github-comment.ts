/**
 * GitHub `issue_comment` deliveries on pull requests (docs.github.com/en/webhooks/webhook-events-and-payloads#issue_comment):
 * action `created`, `issue.pull_request` present (a plain issue has none), the text in `comment.body`, the
 * commenter in `sender` (`comment.user`). The payload has no base branch; the app's branch is not checked
 * for commands (route-command.ts matches on the repository). Values are still raw here.
 */
import * as z from 'zod';
import { isCommand } from '../commands/parse-command.js';
import type { Ignored, SourceEvent } from './event.js';

const commentEvent = z.object({
  action: z.string(),
  issue: z.object({ number: z.number().int().positive(), pull_request: z.object({}).passthrough().nullish() }),
  comment: z.object({
    id: z.number().int().positive(),
    body: z.string().nullish(),
    user: z.object({ id: z.number().int().positive(), login: z.string(), type: z.string().nullish() }),
  }),
  repository: z.object({ full_name: z.string(), default_branch: z.string().nullish() }),
});

export function parseGithubComment(payload: unknown): SourceEvent | Ignored {
  // Never a 4xx for a comment (as parse-gitlab-note.ts): a body without these fields is ignored.
  const parsed = commentEvent.safeParse(payload);
  if (!parsed.success)
    return { ignored: `GitHub issue_comment without ${parsed.error.issues[0]!.path.join('.') || 'a body'}` };
  const p = parsed.data;
  if (p.action !== 'created') return { ignored: `issue_comment ${p.action}, not created` };
  if (!p.issue.pull_request) return { ignored: 'comment on an issue, not a pull request' };
  // fjord's own answers (and other bots') never run commands.
  if (p.comment.user.type === 'Bot') return { ignored: 'comment by a bot' };
  const body = p.comment.body ?? '';
  if (!isCommand(body)) return { ignored: 'comment is not a /fjord command' };
  return {
    provider: 'github',
    trigger: 'command',
    project: p.repository.full_name,
    ref: { type: 'branch', name: p.repository.default_branch ?? 'main' },
    sha: undefined,
    mr: p.issue.number,
    author: p.comment.user.login,
    command: { text: body, userId: p.comment.user.id, username: p.comment.user.login, noteId: p.comment.id },
    paths: {
      project: 'repository.full_name',
      ref: 'repository.default_branch',
      sha: 'issue',
      mr: 'issue.number',
      author: 'comment.user.login',
    },
    payload,
  };
}

/**
 * GitLab adapter of `CommandPlatform` (@gitbeaker/rest): permission from `GET /projects/:id/members/all/:user_id`
 * (inherited memberships count; docs.gitlab.com/api/members/#get-a-member-of-a-group-or-project-including-inherited-and-invited-members),
 * reply with `POST /projects/:id/merge_requests/:iid/discussions/:discussion_id/notes` in the note's thread
 * (docs.gitlab.com/api/discussions/#add-note-to-existing-merge-request-thread), or a new MR note when the
 * note has no discussion id.
 */
import { MergeRequestDiscussions, MergeRequestNotes, ProjectMembers } from '@gitbeaker/rest';
import { gitlabClientOptions } from '../gitlab-client.js';
import type { Logger } from '../log.js';
import type { Secret } from '../secret.js';
import type { CommandPlatform } from './platform.js';

export function gitlabCommandPlatform({
  url,
  token,
  logger,
  timeoutMs = 10_000,
}: {
  url: string;
  token: Secret;
  logger: Logger;
  timeoutMs?: number;
}): CommandPlatform {
  const options = gitlabClientOptions({ host: url, token, timeoutMs });
  const members = new ProjectMembers<false>(options);
  const discussions = new MergeRequestDiscussions<false>(options);
  const notes = new MergeRequestNotes<false>(options);
  return {
    async accessLevel(job) {
      try {
        const member = await members.show(job.source.project!, job.command!.user.id, { includeInherited: true });
        return typeof member.access_level === 'number' ? member.access_level : 0;
      } catch (err) {
        if ((err as { cause?: { response?: { status?: number } } }).cause?.response?.status === 404) return 0;
        throw new Error(`GitLab members API failed for ${job.source.project}`);
      }
    },
    async reply(job, text) {
      const { project, mr } = job.source;
      const discussion = job.command?.note.discussion;
      try {
        if (discussion) await discussions.addNote(project!, mr!, discussion, text);
        else await notes.create(project!, mr!, text);
      } catch (err) {
        logger.warn('command reply failed', {
          project,
          mr,
          status: (err as { cause?: { response?: { status?: number } } }).cause?.response?.status,
        });
      }
    },
  };
}

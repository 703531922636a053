/**
 * A person's access level on a project, read through the platform's API (issue 14, item 2): the merger or
 * the asker of a deploy, and each approver. GitLab: `GET /projects/:id/members/all/:user_id` when the id is
 * known (a `/fjord` comment), else `GET /projects/:id/members/all?query=` and an exact match on username
 * or name (a merge event names its user) — inherited and invited members count
 * (docs.gitlab.com/api/members/#list-all-members-of-a-group-or-project-including-inherited-and-invited-members).
 * GitHub: the collaborator permission of a login, mapped as lib/commands/platform-github.ts does.
 */
import { ProjectMembers } from '@gitbeaker/rest';
import type { Octokit } from '@octokit/rest';
import { gitlabClientOptions, gitlabStatusOf } from '../gitlab-client.js';
import type { Secret } from '../secret.js';
import { ROLE_LEVEL } from '../commands/platform-github.js';

export interface Person {
  id?: number | undefined;
  username?: string | undefined;
  /** A display name (GitLab merge events name their user so). */
  name?: string | undefined;
}

export interface Access {
  level: number;
  /** Who it is, as the platform names them: the same person under any of their names. */
  username: string;
  id?: number;
}

/** The access of `who` on `project`; level 0 when not a member. Throws when the API cannot answer, or the name fits several people. */
export type AccessReader = (project: string, who: Person) => Promise<Access>;

/** The HTTP status of a failed gitbeaker (GitLab) or octokit (GitHub, `status`) call. */
const statusOf = (err: unknown) => gitlabStatusOf(err) ?? (err as { status?: number }).status;

export function gitlabAccess({
  url,
  token,
  timeoutMs = 10_000,
}: {
  url: string;
  token: Secret;
  timeoutMs?: number;
}): AccessReader {
  const members = new ProjectMembers<false>(gitlabClientOptions({ host: url, token, timeoutMs }));
  return async (project, who) => {
    try {
      if (who.id !== undefined) {
        const m = await members.show(project, who.id, { includeInherited: true });
        return { level: typeof m.access_level === 'number' ? m.access_level : 0, username: m.username, id: m.id };
      }
      const key = who.username ?? who.name;
      if (!key) throw new Error('nobody named');
      const found = (await members.all(project, { includeInherited: true, query: key, perPage: 100, page: 1 })).filter(
        (m) => m.username === key || m.name === key,
      );
      const ids = new Set(found.map((m) => m.id));
      if (ids.size > 1) throw new Error(`${JSON.stringify(key)} names ${ids.size} members of ${project}`);
      // Inherited memberships list a person once per source; the highest level counts (GitLab does so too).
      const best = found.reduce<(typeof found)[number] | undefined>(
        (a, b) => (!a || b.access_level > a.access_level ? b : a),
        undefined,
      );
      return best ? { level: best.access_level, username: best.username, id: best.id } : { level: 0, username: key };
    } catch (err) {
      if (statusOf(err) === 404) return { level: 0, username: who.username ?? who.name ?? String(who.id) };
      throw new Error(
        `GitLab members API failed for ${project}: ${statusOf(err) ? `HTTP ${statusOf(err)}` : (err as Error).message.slice(0, 120)}`,
      );
    }
  };
}

export function githubAccess(octokit: Octokit): AccessReader {
  return async (project, who) => {
    const username = who.username ?? who.name;
    if (!username) throw new Error('nobody named');
    const [owner, repo] = project.split('/') as [string, string];
    try {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
      return {
        level: ROLE_LEVEL[data.role_name ?? data.permission] ?? ROLE_LEVEL[data.permission] ?? 0,
        username,
        ...(data.user?.id ? { id: data.user.id } : {}),
      };
    } catch (err) {
      if (statusOf(err) === 404) return { level: 0, username };
      throw new Error(`GitHub collaborator permission API failed for ${project}: HTTP ${statusOf(err) ?? '?'}`);
    }
  };
}

/**
 * GitHub adapter of `CommandPlatform` (octokit, lib/notify/github-client.ts): permission from
 * `GET /repos/{owner}/{repo}/collaborators/{username}/permission` (docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user),
 * whose `role_name` (admin, maintain, write, triage, read) maps onto GitLab's access levels; reply with an
 * issue comment on the pull request (a PR's conversation is its issue's comments).
 */
import type { Octokit } from '@octokit/rest';
import { SHA } from '../grammar.js';
import type { Logger } from '../log.js';
import { ACCESS_LEVELS, type CommandPlatform } from './platform.js';

export const ROLE_LEVEL: Record<string, number> = {
  admin: ACCESS_LEVELS.owner,
  maintain: ACCESS_LEVELS.maintainer,
  write: ACCESS_LEVELS.developer,
  triage: ACCESS_LEVELS.reporter,
  read: ACCESS_LEVELS.guest,
};

export function githubCommandPlatform({ octokit, logger }: { octokit: Octokit; logger: Logger }): CommandPlatform {
  const repoOf = (project: string) => {
    const [owner, repo] = project.split('/') as [string, string];
    return { owner, repo };
  };
  return {
    async accessLevel(job) {
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
          ...repoOf(job.source.project!),
          username: job.command!.user.username,
        });
        return ROLE_LEVEL[data.role_name ?? data.permission] ?? ROLE_LEVEL[data.permission] ?? 0;
      } catch (err) {
        if ((err as { status?: number }).status === 404) return 0;
        throw new Error(`GitHub collaborator permission API failed for ${job.source.project}`);
      }
    },
    async head(job) {
      try {
        const { data } = await octokit.rest.pulls.get({ ...repoOf(job.source.project!), pull_number: job.source.mr! });
        return SHA.test(data.head.sha) ? data.head.sha : undefined;
      } catch (err) {
        logger.warn('pull request lookup failed', {
          project: job.source.project,
          mr: job.source.mr,
          status: (err as { status?: number }).status,
        });
        return undefined;
      }
    },
    async reply(job, text) {
      try {
        await octokit.rest.issues.createComment({
          ...repoOf(job.source.project!),
          issue_number: job.source.mr!,
          body: text,
        });
      } catch (err) {
        logger.warn('command reply failed', {
          project: job.source.project,
          mr: job.source.mr,
          status: (err as { status?: number }).status,
        });
      }
    },
  };
}

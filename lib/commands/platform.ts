/**
 * What a command needs from the platform the comment came from (ports, STYLE.md principle 8): the
 * commenter's permission on the project, read through the API before anything runs, and a reply in the
 * comment's thread. GitLab and GitHub each have one adapter (platform-gitlab.ts, platform-github.ts).
 */
import type { DeployJob } from '../job.js';

/** GitLab's access levels (docs.gitlab.com/api/members/#roles); GitHub's roles are mapped onto the same scale. */
export const ACCESS_LEVELS = { none: 0, guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;

export interface CommandPlatform {
  /** The commenter's access level on the job's project (0 when not a member). Throws when the API cannot answer. */
  accessLevel(job: DeployJob): Promise<number>;
  /** Answers in the comment's thread. Never throws (a failed reply is logged). */
  reply(job: DeployJob, text: string): Promise<void>;
  /** The MR's head commit, when the comment's webhook did not name it (GitHub's issue_comment); undefined when unknown. */
  head?(job: DeployJob): Promise<string | undefined>;
}

/**
 * Web addresses a notification links to: the merged MR (GitLab, or a GitHub pull request) and the
 * manifest commit (when the manifest lives in a GitLab project; a plain git repository has no web page).
 */
import type { Config } from '../config/schema.js';
import type { DeployJob } from '../job.js';

export interface FeedbackLinks {
  mergeRequest(job: DeployJob): string | undefined;
  manifestCommit(commitId: string): string | undefined;
}

/** GitLab's web addresses under `base` (an instance URL; a trailing `/` is dropped): the one place their shape is written. */
export function gitlabUrls(base: string) {
  const root = base.replace(/\/+$/, '');
  return {
    root,
    commit: (project: string, sha: string) => `${root}/${project}/-/commit/${sha}`,
    mergeRequest: (project: string, iid: number | string) => `${root}/${project}/-/merge_requests/${iid}`,
  };
}

export function linksFromConfig(config: Config): FeedbackLinks {
  const gitlab = gitlabUrls(config.sources.gitlab?.url ?? 'https://gitlab.com');
  // GitHub's API URL → its web URL: api.github.com → github.com, GHES <host>/api/v3 → <host>.
  const githubApi = (config.sources.github?.url ?? 'https://api.github.com').replace(/\/+$/, '');
  const github = githubApi === 'https://api.github.com' ? 'https://github.com' : githubApi.replace(/\/api\/v3$/, '');
  const manifestProject = config.manifest.backend === 'gitlab' ? config.manifest.project : undefined;
  return {
    mergeRequest({ source: { provider, project, mr } }) {
      if (!project || !mr) return undefined;
      if (provider === 'gitlab') return gitlab.mergeRequest(project, mr);
      if (provider === 'github') return `${github}/${project}/pull/${mr}`;
      return undefined;
    },
    manifestCommit: (id) => (manifestProject ? gitlab.commit(manifestProject, id) : undefined),
  };
}

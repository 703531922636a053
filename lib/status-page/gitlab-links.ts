/**
 * Web links for the deploys table, built from fjord.yaml: the manifest commit when `manifest.backend` is
 * gitlab (`<url>/<project>/-/commit/<sha>`), and the source commit and merge request named by the
 * `Fjord-Source` / `Fjord-MR` trailers when that project is an app whose source is on GitLab. Trailer
 * values come from git: anything not matching the grammar gets no link.
 */
import type { Config } from '../config/schema.js';
import { PROJECT } from '../grammar.js';
import { gitlabUrls } from '../notify/links.js';

const HEX = /^[0-9a-f]{7,64}$/;

export interface DeployLinks {
  commitUrl?: string;
  sourceUrl?: string;
  mrUrl?: string;
}

/** A function from a manifest commit and its trailers to the links the page can show. */
export function gitlabLinks(config: Config): (commitId: string, trailers: Record<string, string>) => DeployLinks {
  const urls = config.sources.gitlab ? gitlabUrls(config.sources.gitlab.url) : undefined;
  const manifestProject = config.manifest.backend === 'gitlab' ? config.manifest.project : undefined;
  const gitlabProjects = new Set(
    Object.values(config.apps)
      .filter((a) => a.source.provider === 'gitlab')
      .map((a) => a.source.project),
  );
  const onGitlab = (project: string | undefined): project is string =>
    !!urls && !!project && PROJECT.test(project) && gitlabProjects.has(project);
  return (commitId, trailers) => {
    const links: DeployLinks = {};
    if (urls && manifestProject && HEX.test(commitId)) links.commitUrl = urls.commit(manifestProject, commitId);
    const source = /^(.+)@([0-9a-f]+)$/.exec(trailers['Fjord-Source'] ?? '');
    if (source && onGitlab(source[1]) && HEX.test(source[2]!)) links.sourceUrl = urls!.commit(source[1], source[2]!);
    const mr = /^(.+)!(\d{1,9})$/.exec(trailers['Fjord-MR'] ?? '');
    if (mr && onGitlab(mr[1])) links.mrUrl = urls!.mergeRequest(mr[1], mr[2]!);
    return links;
  };
}

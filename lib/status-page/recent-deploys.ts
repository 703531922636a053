/**
 * The last deploys across every configured manifest file, newest first: each file's history from the
 * `ManifestStore`, merged (a commit touching several files is listed once), with links from fjord.yaml.
 */
import type { Config } from '../config/schema.js';
import type { ManifestStore } from '../manifest/store.js';
import { gitlabLinks } from './gitlab-links.js';
import type { DeployRow } from './view.js';

export async function recentDeploys(config: Config, store: ManifestStore, limit = 15): Promise<DeployRow[]> {
  const users = new Map<string, string[]>();
  for (const [app, a] of Object.entries(config.apps)) {
    for (const [env, e] of Object.entries(a.environments)) users.set(e.manifest.file, [...(users.get(e.manifest.file) ?? []), `${app}/${env}`]);
  }
  const links = gitlabLinks(config);
  const seen = new Map<string, DeployRow>();
  // One file after another: the git backend serialises its calls anyway, and GitLab's rate limit is per token.
  for (const [file, where] of users) {
    for (const c of await store.history(file, { limit })) {
      if (seen.has(c.commitId)) continue;
      const t = c.trailers;
      seen.set(c.commitId, {
        commitId: c.commitId,
        subject: c.message.split('\n', 1)[0]!.trim(),
        author: c.author.name,
        authoredAt: c.authoredAt,
        where: t['Fjord-App'] && t['Fjord-Environment'] ? `${t['Fjord-App']}/${t['Fjord-Environment']}` : where.join(', '),
        trailers: t,
        ...(t['Fjord-Rollback-Of'] ? detailsOf(c.message) : {}),
        ...links(c.commitId, t),
      });
    }
  }
  return [...seen.values()].sort((a, b) => Date.parse(b.authoredAt) - Date.parse(a.authoredAt)).slice(0, limit);
}

/** The paragraphs between a commit's subject and its trailers (empty: none). */
function detailsOf(message: string): { details?: string } {
  const paragraphs = message.replace(/\r\n/g, '\n').trim().split(/\n[ \t]*\n/);
  const body = paragraphs.slice(1, -1).join('\n\n').trim();
  return body ? { details: body } : {};
}

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
    for (const [env, e] of Object.entries(a.environments))
      users.set(e.manifest.file, [...(users.get(e.manifest.file) ?? []), `${app}/${env}`]);
  }
  const links = gitlabLinks(config);
  const seen = new Map<string, DeployRow>();
  // Each file's history is newest first in git's own order; `older` keeps that order, so commits made in
  // the same second (author dates have whole seconds) are still listed as git has them.
  const older = new Map<string, Set<string>>();
  // One file after another: the git backend serialises its calls anyway, and GitLab's rate limit is per token.
  for (const [file, where] of users) {
    const history = await store.history(file, { limit });
    history.forEach((c, i) => {
      const next = history[i + 1];
      if (next) older.set(c.commitId, (older.get(c.commitId) ?? new Set()).add(next.commitId));
    });
    for (const c of history) {
      if (seen.has(c.commitId)) continue;
      const t = c.trailers;
      seen.set(c.commitId, {
        commitId: c.commitId,
        subject: c.message.split('\n', 1)[0]!.trim(),
        author: c.author.name,
        authoredAt: c.authoredAt,
        where:
          t['Fjord-App'] && t['Fjord-Environment'] ? `${t['Fjord-App']}/${t['Fjord-Environment']}` : where.join(', '),
        trailers: t,
        ...(t['Fjord-Rollback-Of'] ? detailsOf(c.message) : {}),
        ...links(c.commitId, t),
      });
    }
  }
  return newestFirst([...seen.values()], older).slice(0, limit);
}

/**
 * Rows newest first: a commit is listed only after every commit some file's history has before it, and
 * among those free to go, the latest author date first (a topological order with time as the priority).
 */
function newestFirst(rows: DeployRow[], older: Map<string, Set<string>>): DeployRow[] {
  const newer = new Map<string, number>(rows.map((r) => [r.commitId, 0]));
  for (const [id, set] of older)
    for (const o of set) if (newer.has(o) && newer.has(id)) newer.set(o, newer.get(o)! + 1);
  const byId = new Map(rows.map((r) => [r.commitId, r]));
  const ready = rows.filter((r) => newer.get(r.commitId) === 0);
  const out: DeployRow[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => Date.parse(b.authoredAt) - Date.parse(a.authoredAt));
    const r = ready.shift()!;
    out.push(r);
    for (const o of older.get(r.commitId) ?? []) {
      const n = newer.get(o);
      if (n === undefined || !byId.has(o)) continue;
      newer.set(o, n - 1);
      if (n - 1 === 0) ready.push(byId.get(o)!);
    }
  }
  // A cycle cannot come from git histories; should one appear, the rest keep their time order.
  const left = rows.filter((r) => !out.includes(r)).sort((a, b) => Date.parse(b.authoredAt) - Date.parse(a.authoredAt));
  return [...out, ...left];
}

/** The paragraphs between a commit's subject and its trailers (empty: none). */
function detailsOf(message: string): { details?: string } {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .trim()
    .split(/\n[ \t]*\n/);
  const body = paragraphs.slice(1, -1).join('\n\n').trim();
  return body ? { details: body } : {};
}

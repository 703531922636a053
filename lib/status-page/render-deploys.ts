/**
 * The last deploys, newest first, from the manifest history (fjord's audit log): when, where, the
 * manifest commit, its subject and author, and the `Fjord-*` trailers that say why (reason, source
 * commit, merge request, who merged). Links only where the view carries them.
 */
import { html, raw, type Raw } from './escape-html.js';
import type { DeployRow } from './view.js';

/** `2024-05-01T12:34:56.000Z` → `2024-05-01 12:34 UTC`; anything unparsable is shown as given. */
export function formatTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** How long before `now`: `45 s ago`, `12 min ago`, `3 h ago`, `2 d ago`. */
export function ago(iso: string, now: string): string {
  const s = Math.round((Date.parse(now) - Date.parse(iso)) / 1000);
  if (Number.isNaN(s)) return '';
  if (s < 90) return `${Math.max(0, s)} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

const link = (url: string | undefined, text: Raw): Raw => (url ? html`<a href="${url}">${text}</a>` : text);
// `acme/api@<40 hex>` reads better with the sha shortened as GitLab does.
const shortSource = (source: string): string => source.replace(/@([0-9a-f]{8})[0-9a-f]{32}$/, '@$1');

function trailers(d: DeployRow): Raw {
  const t = d.trailers;
  const parts: Raw[] = [];
  if (t['Fjord-Reason']) parts.push(html`<span class="badge badge-reason">${t['Fjord-Reason']}</span>`);
  if (t['Fjord-Source'])
    parts.push(
      html`<span class="trailer">source ${link(d.sourceUrl, html`<code>${shortSource(t['Fjord-Source'])}</code>`)}</span>`,
    );
  if (t['Fjord-MR']) parts.push(html`<span class="trailer">MR ${link(d.mrUrl, html`${t['Fjord-MR']}`)}</span>`);
  if (t['Fjord-Author']) parts.push(html`<span class="trailer">by ${t['Fjord-Author']}</span>`);
  // Spaces between the pieces: each stays on one line, the cell may wrap between them.
  return html`${parts.flatMap((p, i) => (i === 0 ? [p] : [raw(' '), p]))}`;
}

function row(d: DeployRow, now: string): Raw {
  const commit = link(d.commitUrl, html`<code>${d.commitId.slice(0, 8)}</code>`);
  return html`<tr class="deploy" data-commit="${d.commitId}"><td class="when" title="${d.authoredAt}">${formatTime(d.authoredAt)}<br><small>${ago(d.authoredAt, now)}</small></td><td>${d.where}</td><td>${commit}</td><td class="subject">${d.subject}${d.details ? html`<details class="failure"><summary>what failed</summary><pre>${d.details}</pre></details>` : ''}</td><td>${d.author}</td><td class="trailers">${trailers(d)}</td></tr>`;
}

export function renderDeploys(deploys: readonly DeployRow[], now: string): Raw {
  if (deploys.length === 0) return html`<p>No commits in the manifest history yet.</p>`;
  return html`<table class="deploys"><thead><tr><th>When</th><th>App / env</th><th>Commit</th><th>Message</th><th>Author</th><th>Why</th></tr></thead><tbody>${deploys.map((d) => row(d, now))}</tbody></table>`;
}

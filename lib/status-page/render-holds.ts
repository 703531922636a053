/**
 * The held environments (issue 14, item 3): since when, by whom and why, with how to release. A hold's
 * text comes from a person (a CLI flag, an MR comment): it is escaped here, and the source scrubs known
 * secrets and hides addresses (cached-source.ts, hide-view-addresses.ts) before it reaches the page.
 */
import type { Holds } from '../holds/hold.js';
import { html, raw, type Raw } from './escape-html.js';
import { ago, formatTime } from './render-deploys.js';

export function renderHolds(holds: Holds | undefined, error: string | undefined, now: string): Raw {
  if (error) return html`<p class="notice bad" id="holds-error">The holds file could not be read: ${error}</p>`;
  // The first view, served while the first check still runs, has read nothing yet: no "none held" claim.
  if (!holds) return raw('<p id="holds-unknown">The holds file has not been read yet.</p>');
  const held = Object.entries(holds).sort(([a], [b]) => a.localeCompare(b));
  if (held.length === 0) return raw('<p id="holds-none">No environment is held.</p>');
  const rows = held.map(([key, h]) => {
    const [app, environment] = key.split('/') as [string, string];
    return html`<tr class="row row-held problem" data-app="${app}" data-env="${environment}"><td>${app} / ${environment}</td><td><span class="badge badge-held">HELD</span></td><td class="when">held since <time datetime="${h.since}">${formatTime(h.since)}</time> (${ago(h.since, now)})</td><td>by ${h.by}</td><td class="detail">${h.reason}${h.rollback ? html` <small>(rollback <code>${h.rollback.slice(0, 12)}</code>)</small>` : ''}</td><td class="detail">release: <code>fjord release ${app} ${environment}</code> or <code>/fjord release ${environment}</code></td></tr>`;
  });
  return html`<table class="holds"><thead><tr><th>Environment</th><th>Status</th><th>Since</th><th>By</th><th>Reason</th><th>Release</th></tr></thead><tbody>${rows}</tbody></table>`;
}

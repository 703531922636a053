/**
 * The status page as one self-contained HTML document (inline CSS, no script, no external asset): the
 * drift summary, the held environments, the apps × environments × hosts table and the last deploys. Pure: the same view gives
 * the same bytes; every value is escaped (it comes from hosts, git and config).
 */
import { html, raw } from './escape-html.js';
import { PAGE_STYLE } from './page-style.js';
import { renderDeploys, ago, formatTime } from './render-deploys.js';
import { renderHolds } from './render-holds.js';
import { renderHosts, summarize } from './render-hosts.js';
import type { StatusView } from './view.js';

/** Seconds between automatic reloads (a meta refresh: no script needed); sooner while a check runs. */
export const REFRESH_SECONDS = 30;

export function renderStatusPage(view: StatusView): string {
  const report = view.report;
  const first = !report && !view.error && view.refreshing;
  const summary = report ? summarize(report) : { text: first ? 'checking the hosts' : 'drift check failed', ok: false };
  const checked = report
    ? html`checked <time id="checked" datetime="${report.checkedAt}">${formatTime(report.checkedAt)}</time> (${ago(report.checkedAt, view.generatedAt)})${view.refreshing ? ' · refreshing…' : ''}`
    : '';
  const hosts = report
    ? renderHosts(report)
    : first
      ? html`<p class="notice">Checking the hosts for the first time; this page reloads by itself.</p>`
      : html`<p class="notice bad">The drift check could not run: ${view.error ?? 'unknown error'}</p>`;
  const deploys = view.deploysError
    ? html`<p class="notice bad">The manifest history could not be read: ${view.deploysError}</p>`
    : renderDeploys(view.deploys, view.generatedAt);
  return `<!doctype html>
${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="${view.refreshing ? 5 : REFRESH_SECONDS}"><title>${summary.ok ? '✓' : '✗'} fjord status</title>
<style>${raw(PAGE_STYLE)}</style></head><body>
<header><h1>fjord status</h1><p>Desired tag (manifest) against what each host runs. ${checked}</p>
<span class="summary ${summary.ok ? 'summary-ok' : 'summary-drift'}" id="summary">${summary.ok ? 'all in sync' : 'attention'} — ${summary.text}</span></header>
<h2>Holds</h2>${renderHolds(view.holds, view.holdsError, view.generatedAt)}
<h2>Hosts</h2>${hosts}
<h2>Last deploys</h2>${deploys}
</body></html>`}
`;
}

/**
 * The apps × environments × hosts table: one `<tbody>` per environment (a heading row with the manifest
 * file and its tag), one row per host. Rows that need a person (drifted, missing, unreachable, an
 * unreadable manifest) carry `problem` and `row-<status>` classes and a text badge, so the state does not
 * depend on colour alone.
 */
import type { HostDrift } from '../reconcile/classify-host.js';
import type { DriftReport } from '../reconcile/drift.js';
import type { EnvironmentDrift } from '../reconcile/drift-types.js';
import { html, raw, type Raw } from './escape-html.js';
import { driftDetail } from '../reconcile/format-drift.js';

const LABEL: Record<HostDrift['status'], string> = {
  'in-sync': 'in sync',
  drifted: 'DRIFTED',
  missing: 'MISSING',
  unreachable: 'UNREACHABLE',
};

/** `registry.example.com/acme/api:v1` → `api:v1` (the full reference is in the cell's title). */
const short = (ref: string | undefined): string => (ref === undefined ? '–' : ref.slice(ref.lastIndexOf('/') + 1));
const ref = (value: string | undefined): Raw =>
  html`<td class="ref" title="${value ?? ''}"><code>${short(value)}</code></td>`;

function detail(h: HostDrift): string {
  if (h.status === 'unreachable') return `${h.errorName ?? 'Error'}: ${h.error ?? ''}`;
  if (h.status === 'drifted')
    return [h.running !== h.desired ? 'runs another image than the manifest says' : '', driftDetail(h)]
      .filter(Boolean)
      .join('; ');
  if (h.status === 'missing') return h.state ? `container ${h.state}` : 'no container';
  return '';
}

/** Each drifted file's diff (git → host), folded: plain HTML, no script. */
const diffs = (h: HostDrift): Raw =>
  html`${(h.files ?? []).filter((f) => f.diff).map((f) => html`<details class="diff"><summary>${f.target}: diff</summary><pre>${f.diff!}</pre></details>`)}`;

function hostRow(e: EnvironmentDrift, h: HostDrift): Raw {
  const cls = `row row-${h.status}${h.status === 'in-sync' ? '' : ' problem'}`;
  return html`<tr class="${cls}" data-app="${e.app}" data-env="${e.environment}" data-host="${h.host}" data-status="${h.status}">
<td class="host">${h.host}</td><td><span class="badge badge-${h.status}">${LABEL[h.status]}</span></td>${ref(h.desired)}${ref(h.running)}<td>${h.container ?? ''}${h.state ? html` <small>(${h.state})</small>` : ''}</td><td class="detail">${detail(h)}${diffs(h)}</td></tr>`;
}

function environment(e: EnvironmentDrift): Raw {
  const head = html`<tr class="env"><th colspan="6">${e.app} / ${e.environment} <small>${e.file}${e.desiredTag ? html` → <code>${e.desiredTag}</code>` : ''}${e.secretsNotChecked ? html` · ${e.secretsNotChecked}` : ''}</small></th></tr>`;
  let body: Raw;
  if (e.error)
    body = html`<tr class="row row-error problem" data-app="${e.app}" data-env="${e.environment}"><td>–</td><td><span class="badge badge-error">ERROR</span></td><td colspan="4" class="detail">${e.error}</td></tr>`;
  else if (e.hosts.length === 0)
    body = html`<tr class="row"><td colspan="6" class="detail">no hosts: the manifest commit is the deploy</td></tr>`;
  else body = html`${e.hosts.map((h) => hostRow(e, h))}`;
  return html`<tbody>${head}${body}</tbody>`;
}

/** Counts per status, e.g. `3 in sync · 1 drifted`, and whether anything needs attention. */
export function summarize(report: DriftReport): { text: string; ok: boolean } {
  const counts = new Map<string, number>();
  for (const e of report.environments) {
    if (e.error) counts.set('manifest error', (counts.get('manifest error') ?? 0) + 1);
    for (const h of e.hosts)
      counts.set(LABEL[h.status].toLowerCase(), (counts.get(LABEL[h.status].toLowerCase()) ?? 0) + 1);
  }
  const text = [...counts].map(([k, n]) => `${n} ${k}`).join(' · ') || 'nothing configured';
  return { text, ok: report.inSync };
}

export function renderHosts(report: DriftReport): Raw {
  if (report.environments.length === 0) return raw('<p>No apps configured.</p>');
  return html`<table class="hosts"><thead><tr><th>Host</th><th>Status</th><th>Desired (manifest)</th><th>Running</th><th>Container</th><th>Detail</th></tr></thead>${report.environments.map(environment)}</table>`;
}

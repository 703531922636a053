/** The drift report as a plain-text table for `fjord status`: one row per host, drift spelled out. */
import { describeKeyChanges } from '../secrets/key-changes.js';
import { describeHeal } from './decide-heal.js';
import type { HostDrift } from './classify-host.js';
import type { DriftReport } from './drift.js';

/** `files: nginx/nginx.conf drifted, conf.d/x.conf missing` (only the files not in sync). */
export const filesText = (h: HostDrift): string => {
  const off = (h.files ?? []).filter((f) => f.status !== 'in-sync');
  return off.length ? `files: ${off.map((f) => `${f.target} ${f.status}`).join(', ')}` : '';
};

/** `secrets: drifted (changed API_TOKEN)` / `secrets: missing` (key names only, never a value). */
export const secretsText = (h: HostDrift): string => {
  const s = h.secrets;
  if (!s || s.status === 'in-sync') return '';
  const keys = s.keys ? describeKeyChanges(s.keys) : '';
  const why = [keys && keys !== 'no change' ? `heal: ${keys}` : s.keys ? 'content differs' : '', s.access ?? '']
    .filter(Boolean)
    .join('; ');
  return `secrets: ${s.path} ${s.status}${why ? ` (${why})` : ''}`;
};

/** Files and env file not in sync, for one host: `files: …; secrets: …`. */
export const driftDetail = (h: HostDrift): string => [filesText(h), secretsText(h)].filter(Boolean).join('; ');

const tagOf = (ref: string | undefined): string => (ref === undefined ? '-' : ref.slice(ref.lastIndexOf('/') + 1));

export function formatDrift(report: DriftReport): string {
  const rows: string[][] = [['APP/ENV', 'HOST', 'STATUS', 'DESIRED', 'RUNNING', 'DETAIL']];
  for (const e of report.environments) {
    const where = `${e.app}/${e.environment}`;
    if (e.error) rows.push([where, '-', 'error', '-', '-', `${e.file}: ${e.error}`]);
    else if (e.hosts.length === 0)
      rows.push([where, '-', 'no hosts', e.desiredTag ?? '-', '-', 'the manifest commit is the deploy']);
    for (const h of e.hosts) {
      const state =
        h.status === 'unreachable'
          ? `${h.errorName}: ${h.error}`
          : h.state && h.state !== 'running' && h.state !== 'recorded'
            ? `state ${h.state}`
            : '';
      const detail = [state, driftDetail(h)].filter(Boolean).join('; ');
      rows.push([where, h.host, h.status, tagOf(h.desired), tagOf(h.running), detail]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  // Self-heal state under the table: the one place a person sees that fjord stopped trying.
  const heals = report.environments.flatMap((e) =>
    e.heal ? [`${e.app}/${e.environment}: ${describeHeal(e.heal)}`] : [],
  );
  const unchecked = report.environments.flatMap((e) =>
    e.secretsNotChecked ? [`${e.app}/${e.environment}: ${e.secretsNotChecked}`] : [],
  );
  // What a hand edit changed, per drifted file (secret files: the hash only, never a diff).
  const diffs = report.environments.flatMap((e) =>
    e.hosts.flatMap((h) =>
      (h.files ?? [])
        .filter((f) => f.diff)
        .map((f) => `\n${e.app}/${e.environment} ${h.host} ${f.target} (git → host):\n${f.diff!.trimEnd()}`),
    ),
  );
  return (
    [...lines, ...heals, ...unchecked, ...diffs].join('\n') +
    `\n${report.inSync ? 'all in sync' : 'DRIFT'} (checked ${report.checkedAt})\n`
  );
}

/**
 * A failed host's diagnostics as plain text, for `fjord deploy` output and the MR note's fenced block:
 * the container's state, the health probes (time, URL, status, body excerpt) and its last log lines.
 */
import type { FailureDiagnostics, HealthProbeRecord } from './types.js';

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
const clock = (iso: string) => iso.slice(11, 23) || iso;

function probeLine(p: HealthProbeRecord): string {
  const answer =
    p.status === undefined
      ? `exit ${p.exitCode}`
      : p.status === 0
        ? `no answer (curl exit ${p.exitCode}${p.error ? `: ${oneLine(p.error)}` : ''})`
        : `HTTP ${p.status}`;
  return `${clock(p.at)} ${p.target} → ${answer} in ${p.ms} ms${p.body ? `: ${oneLine(p.body)}` : ''}`;
}

/** Lines (no trailing newline) describing `d`. */
export function formatDiagnostics(d: FailureDiagnostics): string[] {
  const out: string[] = [];
  const s = d.state;
  out.push(
    s
      ? `container ${d.container}: status ${s.status}, exit code ${s.exitCode}, OOM-killed ${s.oomKilled ? 'yes' : 'no'}, restarts ${s.restartCount}${s.error ? `, error: ${oneLine(s.error)}` : ''}`
      : `container ${d.container}: gone`,
  );
  if (d.probeCount) {
    out.push(
      `health probes (${d.probes.length === d.probeCount ? d.probeCount : `last ${d.probes.length} of ${d.probeCount}`}):`,
    );
    for (const p of d.probes) out.push(`  ${probeLine(p)}`);
  }
  out.push(d.logs ? 'last log lines:' : 'no log lines', ...(d.logs ? d.logs.split('\n').map((l) => `  ${l}`) : []));
  return out;
}

/**
 * The merge request note fjord keeps for one deploy of one commit to one environment. The hidden marker
 * `<!-- fjord:<app>/<env>/<sha> -->` lets a later run find the note again and edit it instead of adding one.
 */
import { fenceBlock, neutralizeReferences } from '../grammar.js';
import type { DeployJob } from '../job.js';
import { formatDiagnostics } from '../rollout/format-diagnostics.js';
import type { HostReport, RolloutReport } from '../rollout/types.js';
import type { Outcome } from '../worker/outcome.js';
import { renderTimeline } from './render-timeline.js';
import { secretChanges } from './secret-changes.js';
import type { Timeline } from './timeline.js';

export const noteMarker = (job: Pick<DeployJob, 'app' | 'environment' | 'sha' | 'tag'>): string =>
  `<!-- fjord:${job.app}/${job.environment}/${job.sha ?? job.tag} -->`;

const ICON: Record<string, string> = {
  deployed: '✅',
  noop: '✅',
  received: 'ℹ️',
  superseded: '⏭️',
  proposed: '📝',
  held: '⏸️',
  waiting: '⏸️',
  failed: '❌',
};

/** Body while the deploy runs: the timeline so far. */
export function renderStartedNote(job: DeployJob, timeline?: Timeline): string {
  const head = `${noteMarker(job)}\n### ⏳ fjord: deploying \`${job.app}\` to **${job.environment}**\n\nImage \`${job.image}:${job.tag}\` (job \`${job.id}\`, ${job.reason}).\n`;
  return timeline ? `${head}\n${renderTimeline(timeline).join('\n')}\n` : head;
}

/** Body while a gate holds the job (a freeze): nothing rolled out yet, and until when. */
export function renderWaitingNote(job: DeployJob, reason: string): string {
  return `${noteMarker(job)}\n### ⏸️ fjord: \`${job.app}\` to **${job.environment}**: waiting\n\nImage \`${job.image}:${job.tag}\` (job \`${job.id}\`, ${job.reason}).\n\n${oneLine(reason)}. Nothing is rolled out until then; it starts on its own, unless a newer deploy of ${job.environment} comes first.\n`;
}

/** Body once the job has an outcome: status, detail, manifest commit, timeline, per-host results and timings. */
export function renderFinishedNote(
  job: DeployJob,
  outcome: Outcome,
  { commitUrl, timeline }: { commitUrl?: (id: string) => string; timeline?: Timeline } = {},
): string {
  const lines = [
    noteMarker(job),
    `### ${ICON[outcome.status] ?? '•'} fjord: \`${job.app}\` to **${job.environment}**: ${outcome.status}`,
    '',
  ];
  lines.push(`Image \`${job.image}:${job.tag}\` (job \`${job.id}\`, ${job.reason}).`);
  if (outcome.detail) lines.push('', oneLine(outcome.detail));
  const commitId = typeof outcome.commitId === 'string' ? outcome.commitId : undefined;
  if (commitId)
    lines.push(
      '',
      `Manifest commit: ${commitUrl ? `[\`${commitId.slice(0, 12)}\`](${commitUrl(commitId)})` : `\`${commitId}\``}`,
    );
  if (typeof outcome.rollbackCommitId === 'string') lines.push(`Manifest restored by \`${outcome.rollbackCommitId}\``);
  if (timeline) lines.push('', ...renderTimeline(timeline));
  const report = outcome.rollout as RolloutReport | undefined;
  if (report && Array.isArray(report.hosts)) lines.push('', ...renderHosts(report));
  return lines.join('\n') + '\n';
}

function renderHosts(report: RolloutReport): string[] {
  const rows = ['| host | result | timings |', '| --- | --- | --- |', ...report.hosts.map(hostRow)];
  rows.push('', `Rollout ${report.ok ? 'healthy' : 'failed'} in ${seconds(report.durationMs)}.`);
  const secrets = secretChanges(report);
  if (secrets.length) rows.push('', `Secrets (names only): ${secrets.map(cell).join(' · ')}`);
  if (report.failed) {
    rows.push(
      '',
      `Failed on \`${report.failed.host}\` at step \`${report.failed.step}\`: ${oneLine(report.failed.message)}`,
    );
    if (report.failed.stderrTail) rows.push('', fenceBlock(report.failed.stderrTail.slice(-1500)));
  }
  for (const h of report.hosts)
    if (h.diagnostics)
      rows.push(
        '',
        `What \`${cell(h.host)}\`'s new container said:`,
        '',
        fenceBlock(formatDiagnostics(h.diagnostics).join('\n').slice(-6000)),
      );
  if (report.mixedVersions) rows.push('', `⚠️ ${oneLine(report.mixedVersions)}`);
  return rows;
}

function hostRow(h: HostReport): string {
  const timings = Object.entries(h.timings ?? {})
    .map(([step, ms]) => `${step} ${seconds(ms)}`)
    .join(', ');
  const result = h.step ? `${h.status} (at ${h.step})` : h.status;
  return `| ${cell(h.host)} | ${cell(result)} | ${cell(timings || '–')} |`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
// Outside text (error messages quote hosts and webhooks): one clean line in which no `@name` pings.
const oneLine = (s: string): string => neutralizeReferences(s.slice(0, 2000));
const cell = (s: string): string => oneLine(s).replace(/\|/g, '\\|');

/** The timeline as a Markdown table for the MR note: UTC time, time since the webhook was received, milestone. */
import { neutralizeReferences } from '../grammar.js';
import type { Timeline } from './timeline.js';

export function renderTimeline(timeline: Timeline): string[] {
  const start = timeline.receivedAt;
  const rows = timeline.entries.map(
    (e) =>
      `| ${clock(e.at)} | ${e.at === start ? '0s' : `+${elapsed(e.at - start)}`} | ${e.ok ? '✔' : '✖'} ${cell(e.text)} |`,
  );
  return ['| time (UTC) | elapsed | stage |', '| --- | ---: | --- |', ...rows];
}

/** `4.2s`, `3m05s`, `2h07m`, `3d04h`: precise where it matters, short where it does not. Clock skew → 0. */
export function elapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad((s % 86_400) / 3600)}h`;
}

const clock = (at: number): string => new Date(at).toISOString().slice(11, 19);
const cell = (s: string): string => neutralizeReferences(s.slice(0, 300)).replace(/\|/g, '\\|');

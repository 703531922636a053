/**
 * Turns the pipeline's own signals into timeline milestones: the rollout engine's events (lib/rollout/types.ts)
 * into "batch N healthy" / "batch N failed" / rollback lines, and the job's outcome into the last line.
 */
import type { EnvironmentConfig } from '../config/schema.js';
import { planBatches } from '../rollout/plan-batches.js';
import type { RolloutEvent, RolloutReport } from '../rollout/types.js';
import type { Outcome } from '../worker/outcome.js';
import type { Timeline } from './timeline.js';

/** Marks the rollout's start on `timeline`; returns the `onEvent` listener that records its batches and rollbacks. */
export function recordRollout(
  timeline: Timeline,
  tag: string,
  env: Pick<EnvironmentConfig, 'hosts' | 'rollout'>,
): (event: RolloutEvent) => void {
  const total = planBatches(env.hosts, env.rollout.batchSize, env.rollout.canary).length;
  timeline.begin('rollout');
  timeline.mark('rollout', `rollout started: ${tag} to ${env.hosts.length} host(s) in ${total} batch(es)`);
  const batches = new Map<number, string[]>();
  let failure: string | undefined;
  let rollingBack = false;
  return (e) => {
    switch (e.type) {
      case 'batch-start':
        batches.set(e.batch, e.hosts);
        break;
      case 'host-step':
        if (e.status === 'failed' && !e.rollback) failure ??= `${e.host} at ${e.step}`;
        break;
      case 'batch-end': {
        const hosts = (batches.get(e.batch) ?? []).join(', ');
        if (e.ok) timeline.mark('batch', `batch ${e.batch + 1}/${total} healthy: ${hosts} (${seconds(e.ms)})`);
        else
          timeline.mark('batch', `batch ${e.batch + 1}/${total} failed: ${failure ?? hosts} (${seconds(e.ms)})`, false);
        break;
      }
      case 'rollback-start':
        rollingBack = e.hosts.length > 0;
        if (rollingBack) timeline.mark('rollback', `rolling back ${e.hosts.join(', ')}`, false);
        break;
      case 'rollback-end':
        if (rollingBack || !e.ok) {
          timeline.mark(
            'rollback',
            e.ok ? 'hosts back on their previous image' : 'ROLLBACK FAILED: the fleet runs mixed versions',
            e.ok,
          );
        }
        break;
      default:
        break;
    }
  };
}

/** The last line, at `at`: `done` for every outcome but `failed`, which says where it failed. */
export function finishTimeline(timeline: Timeline, outcome: Outcome, at = timeline.now()): void {
  if (outcome.status === 'failed') {
    const f = (outcome.rollout as RolloutReport | undefined)?.failed;
    const where = f ? `${f.step} on ${f.host}` : (timeline.step ?? 'start');
    timeline.mark(
      'failed',
      `failed at ${where}: ${firstLine(f?.message ?? outcome.detail ?? 'unknown error')}`,
      false,
      at,
    );
    return;
  }
  const what =
    outcome.status === 'deployed'
      ? 'deployed'
      : `${outcome.status}${outcome.detail ? `: ${firstLine(outcome.detail)}` : ''}`;
  timeline.mark('done', `done: ${what}`, true, at);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const firstLine = (s: string): string => {
  const line = s.split('\n')[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
};

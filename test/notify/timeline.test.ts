/**
 * The job timeline on its own: milestones from rollout events and outcomes, the elapsed-time format, and
 * runWithFeedback's promise — the notifier hears started → progress → finished in order, progress calls
 * coalesce, and a slow notifier never holds the pipeline back while it works.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeployJob } from '../../lib/job.js';
import type { Notifier } from '../../lib/notify/notifier.js';
import { finishTimeline, recordRollout } from '../../lib/notify/record-stages.js';
import { elapsed, renderTimeline } from '../../lib/notify/render-timeline.js';
import { runWithFeedback } from '../../lib/notify/run-with-feedback.js';
import { Timeline } from '../../lib/notify/timeline.js';
import { silentLogger } from '../../lib/log.js';
import { RetryableError } from '../../lib/worker/outcome.js';
import { environment } from '../rollout/helpers.js';
import { makeJob } from '../fixtures/jobs.js';

const ctx = { heartbeat: async () => {}, attempts: 1, logger: silentLogger, signal: new AbortController().signal };
const texts = (t: Timeline) => t.entries.map((e) => `${e.ok ? '+' : '-'} ${e.text}`);

describe('timeline', () => {
  it('formats elapsed time precisely when short, briefly when long, and never negative', () => {
    assert.deepEqual([0, 4_240, 59_949, 185_000, 7_620_000, 3 * 86_400_000 + 4 * 3_600_000, -5_000].map(elapsed), [
      '0.0s',
      '4.2s',
      '59.9s',
      '3m05s',
      '2h07m',
      '3d04h',
      '0.0s',
    ]);
  });

  it('records a rollout from the engine events: batches, the failing host and step, the rollback, the end', () => {
    const t = new Timeline('2025-01-01T12:00:00.000Z', { now: () => Date.parse('2025-01-01T12:00:03.500Z') });
    const on = recordRollout(t, 'v2', environment({ batchSize: 1 }, ['web-1', 'web-2', 'web-3']));
    on({ type: 'batch-start', batch: 0, hosts: ['web-1'] });
    on({ type: 'host-done', host: 'web-1', status: 'updated' });
    on({ type: 'batch-end', batch: 0, ok: true, ms: 1234 });
    on({ type: 'batch-start', batch: 1, hosts: ['web-2'] });
    on({ type: 'host-step', host: 'web-2', step: 'health', status: 'failed', ms: 900 });
    on({ type: 'batch-end', batch: 1, ok: false, ms: 2000 });
    on({ type: 'rollback-start', hosts: ['web-1', 'web-2'], reason: 'health check failed' });
    on({ type: 'host-step', host: 'web-1', step: 'start', status: 'failed', rollback: true });
    on({ type: 'rollback-end', ok: false });
    finishTimeline(t, {
      status: 'failed',
      detail: 'x',
      rollout: {
        ok: false,
        hosts: [],
        durationMs: 1,
        failed: {
          host: 'web-2',
          step: 'health',
          message: 'health check failed\nmore',
          errorName: 'HealthCheckFailed',
          stderrTail: '',
        },
      },
    });
    assert.deepEqual(texts(t), [
      '+ received',
      '+ rollout started: v2 to 3 host(s) in 3 batch(es)',
      '+ batch 1/3 healthy: web-1 (1.2s)',
      '- batch 2/3 failed: web-2 at health (2.0s)',
      '- rolling back web-1, web-2',
      '- ROLLBACK FAILED: the fleet runs mixed versions',
      '- failed at health on web-2: health check failed',
    ]);
    assert.deepEqual(renderTimeline(t).slice(2, 4), [
      '| 12:00:00 | 0s | ✔ received |',
      '| 12:00:03 | +3.5s | ✔ rollout started: v2 to 3 host(s) in 3 batch(es) |',
    ]);
  });

  it('a failure outside the rollout says which step was under way; other outcomes end in done', () => {
    const t = new Timeline(new Date().toISOString());
    t.begin('image wait');
    finishTimeline(t, { status: 'failed', detail: 'image registry.example.com/acme/api:v9 not found after 5 s' });
    const done = new Timeline(new Date().toISOString());
    finishTimeline(done, { status: 'superseded', detail: 'a newer deploy (v10) is already recorded' });
    assert.deepEqual(
      [texts(t).at(-1), texts(done).at(-1)],
      [
        '- failed at image wait: image registry.example.com/acme/api:v9 not found after 5 s',
        '+ done: superseded: a newer deploy (v10) is already recorded',
      ],
    );
  });

  /** A notifier that records its calls and takes `ms` for each. */
  const slowNotifier = (ms: number, calls: string[]): Notifier => {
    const wait = () => new Promise((r) => setTimeout(r, ms));
    return {
      jobStarted: async () => {
        calls.push('started');
        await wait();
      },
      jobProgress: async (_j, t) => {
        calls.push(`progress ${t.entries.length}`);
        await wait();
      },
      jobFinished: async (_j, o, t) => {
        calls.push(`finished ${o.status} ${t?.entries.at(-1)?.text}`);
        await wait();
      },
    };
  };

  it('runs the pipeline without waiting for the notifier, then tells it everything in order, progress coalesced', async () => {
    const calls: string[] = [];
    const job: DeployJob = makeJob();
    let ranAt = 0;
    const started = Date.now();
    const outcome = await runWithFeedback(job, ctx, slowNotifier(150, calls), async ({ timeline }) => {
      ranAt = Date.now() - started;
      for (const n of [1, 2, 3, 4]) timeline!.mark('batch', `batch ${n}/4 healthy`);
      await new Promise((r) => setTimeout(r, 20));
      return { status: 'deployed' };
    });
    assert.equal(outcome.status, 'deployed');
    assert.ok(ranAt < 100, `the pipeline started at once (${ranAt} ms)`);
    // Four marks while `started` was in flight: one progress call, rendering all of them.
    assert.deepEqual(calls, ['started', 'progress 5', 'finished deployed done: deployed']);
  });

  it('a retried job: the retry is a last progress milestone, no jobFinished, and the error goes on to the worker', async () => {
    const calls: string[] = [];
    const err = new RetryableError('web-1: lock held by another deploy', 15);
    await assert.rejects(
      runWithFeedback(makeJob(), ctx, slowNotifier(10, calls), async () => {
        throw err;
      }),
      err,
    );
    assert.deepEqual(calls, ['started', 'progress 2']);
  });
});

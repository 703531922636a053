/**
 * Runs one job with feedback around it: a `Timeline` that starts at the job's `enqueuedAt` is handed to the
 * pipeline through `ctx.timeline`; the notifier hears `jobStarted`, a `jobProgress` per milestone and
 * `jobFinished`, always in that order. The pipeline never waits on a notifier while it works: the calls are
 * chained in the background (progress calls coalesce, since each renders the whole timeline), and only the
 * job's end waits for the chain, so every notifier has had its say before the job is acknowledged.
 */
import type { DeployJob } from '../job.js';
import { GateWait } from '../gates/gate.js';
import { RetryableError, type Outcome } from '../worker/outcome.js';
import type { JobContext } from '../worker/worker-loop.js';
import type { Notifier } from './notifier.js';
import { finishTimeline } from './record-stages.js';
import { Timeline } from './timeline.js';

export async function runWithFeedback(
  job: DeployJob,
  ctx: JobContext,
  notifier: Notifier,
  run: (ctx: JobContext) => Promise<Outcome>,
): Promise<Outcome> {
  // GitHub numbers pull requests `#12`, GitLab merge requests `!12`.
  const mr = job.source.mr ? ` of ${job.source.provider === 'github' ? '#' : '!'}${job.source.mr}` : '';
  const timeline = new Timeline(job.enqueuedAt, { text: `received (${job.reason}${mr})` });
  // Notifiers never throw (notifier.ts); the catch only keeps one from breaking the chain if one did.
  const safe = (fn: () => Promise<void> | undefined) => async () => {
    try {
      await fn();
    } catch {}
  };
  let chain = safe(() => notifier.jobStarted(job, timeline))();
  let queued = false;
  const off = timeline.onMark(() => {
    if (queued || !notifier.jobProgress) return;
    queued = true;
    chain = chain.then(() => (queued = false)).then(safe(() => notifier.jobProgress?.(job, timeline)));
  });
  try {
    const outcome = await run({ ...ctx, timeline });
    const endedAt = timeline.now();
    off();
    // Progress still queued renders without the last line, which goes out with jobFinished alone.
    await chain;
    finishTimeline(timeline, outcome, endedAt);
    await safe(() => notifier.jobFinished(job, outcome, timeline))();
    return outcome;
  } catch (err) {
    // Retried later: say so on the note, leave the statuses as they are (the next attempt continues them).
    if (err instanceof RetryableError)
      timeline.mark('retry', `will retry in ${err.delaySec}s: ${err.message.split('\n')[0]!.slice(0, 200)}`, false);
    off();
    await chain;
    // A freeze that began while the job waited for its image: handed back before its commit, and said so.
    if (err instanceof GateWait) await safe(() => notifier.jobWaiting?.(job, err))();
    throw err;
  }
}

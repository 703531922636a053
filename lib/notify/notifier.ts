/**
 * Where fjord tells people how a deploy went (issue 7): the worker calls `jobStarted` as the job starts
 * (it may still wait for its image), `jobProgress` after timeline milestones, and `jobFinished` with the
 * outcome (run-with-feedback.ts). Implementations never throw: a notification failure is logged and
 * swallowed, because telling GitLab (or chat) must never fail or retry a deploy.
 */
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import type { Outcome } from '../worker/outcome.js';
import type { Timeline } from './timeline.js';

export interface Notifier {
  jobStarted(job: DeployJob, timeline?: Timeline): Promise<void>;
  /** The timeline gained one or more milestones (calls coalesce: render the whole timeline). */
  jobProgress?(job: DeployJob, timeline: Timeline): Promise<void>;
  jobFinished(job: DeployJob, outcome: Outcome, timeline?: Timeline): Promise<void>;
  /** A gate (a freeze) handed the job back until `until`; `reason` says so in people's words. */
  jobWaiting?(job: DeployJob, wait: { until: Date; reason: string }): Promise<void>;
}

/** Says nothing: the default when no feedback target is configured. */
export const silentNotifier: Notifier = {
  jobStarted: async () => {},
  jobFinished: async () => {},
};

/** One notifier that tells each of `notifiers`, side by side (GitLab and chat). */
export function combineNotifiers(...notifiers: Notifier[]): Notifier {
  const all = async (fn: (n: Notifier) => Promise<void> | undefined) =>
    void (await Promise.allSettled(notifiers.map(async (n) => fn(n))));
  if (notifiers.length === 1) return notifiers[0]!;
  return {
    jobStarted: (job, timeline) => all((n) => n.jobStarted(job, timeline)),
    jobProgress: (job, timeline) => all((n) => n.jobProgress?.(job, timeline)),
    jobFinished: (job, outcome, timeline) => all((n) => n.jobFinished(job, outcome, timeline)),
    jobWaiting: (job, wait) => all((n) => n.jobWaiting?.(job, wait)),
  };
}

/** Runs `fn`; an error is logged as a warning with `what` and dropped. */
export async function swallow(logger: Logger, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    logger.warn('notification failed', { what, error: describe(err) });
  }
}

// gitbeaker errors carry the request (with its headers) in `cause`: log the message and HTTP status only.
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const status = (err.cause as { response?: { status?: number } } | undefined)?.response?.status;
  const code = (err.cause as { code?: string } | undefined)?.code;
  return `${err.name}: ${err.message}${status ? ` (HTTP ${status})` : ''}${code ? ` (${code})` : ''}`;
}

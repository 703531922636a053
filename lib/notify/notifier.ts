/**
 * Where fjord tells people how a deploy went (issue 7): the worker calls `jobStarted` before the first stage
 * and `jobFinished` with the outcome. Implementations never throw: a notification failure is logged and
 * swallowed, because telling GitLab (or chat) must never fail or retry a deploy.
 */
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import type { Outcome } from '../worker/outcome.js';

export interface Notifier {
  jobStarted(job: DeployJob): Promise<void>;
  jobFinished(job: DeployJob, outcome: Outcome): Promise<void>;
}

/** Says nothing: the default when no feedback target is configured. */
export const silentNotifier: Notifier = {
  jobStarted: async () => {},
  jobFinished: async () => {},
};

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

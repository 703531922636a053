/** A failure as the report shows it: the step, a message, and the host's stderr tail when there is one. */
import { StepFailed } from './host-steps.js';
import type { Step } from './types.js';

export function describeFailure(err: unknown): { step: Step; message: string; errorName: string; stderrTail: string } {
  const step = err instanceof StepFailed ? err.step : 'connect';
  const cause = err instanceof StepFailed ? err.error : err;
  const message = cause instanceof Error ? cause.message : String(cause);
  const stderrTail =
    typeof (cause as { stderrTail?: unknown })?.stderrTail === 'string'
      ? (cause as { stderrTail: string }).stderrTail
      : '';
  const errorName = cause instanceof Error ? cause.name : 'Error';
  return { step, message, errorName, stderrTail };
}

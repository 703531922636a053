/**
 * Bounded exponential back-off with "equal jitter" (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): the n-th delay is drawn from [d/2, d] with d = min(max, initial·2ⁿ), so workers that started
 * waiting together spread out, yet never wait less than half the nominal delay.
 */
export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

export function backoffDelay(
  attempt: number,
  { initialDelayMs, maxDelayMs }: BackoffOptions,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/**
 * Step 0 of the worker (DESIGN.md "Flow"): CI is usually still building the image when the merge event
 * arrives, so wait until `image:tag` exists, checking with bounded back-off until the deadline. Before
 * each pause `heartbeat` lets the worker extend the job's queue visibility, keeping it hidden from other
 * workers. Registry outages (5xx, network) are retried within the deadline; refused credentials and bad
 * references fail at once: waiting cannot fix them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from './backoff-delay.js';
import { ImageNotFound, RegistryError } from './errors.js';
import { imageExists, type RegistryOptions } from './image-exists.js';
import { checkImageRef, type ImageRef } from './reference.js';

export interface WaitInfo {
  /** Checks made so far. */
  checks: number;
  waitedMs: number;
  /** The pause about to start; the next check follows it. */
  delayMs: number;
  /** Set when the last check failed with a retryable registry error rather than "not there yet". */
  error?: RegistryError;
}

export interface WaitOptions extends RegistryOptions {
  /** How long to wait in all (config `apps.<app>.waitForImage`). */
  deadlineMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** For logs: called before each pause. */
  onWait?: (info: WaitInfo) => void;
  /** Called (and awaited) before each pause: extend the job's visibility by at least `delayMs`. A throw stops the wait. */
  heartbeat?: (info: WaitInfo) => unknown;
  random?: () => number;
}

export interface WaitResult {
  checks: number;
  waitedMs: number;
}

export async function waitForImage(ref: ImageRef, opts: WaitOptions): Promise<WaitResult> {
  const { image, tag } = checkImageRef(ref);
  const { deadlineMs, initialDelayMs = 2000, maxDelayMs = 30_000, onWait, heartbeat, signal, random } = opts;
  const started = Date.now();
  const deadline = started + deadlineMs;
  let checks = 0;
  for (;;) {
    let error: RegistryError | undefined;
    checks += 1;
    try {
      if (await imageExists({ image, tag }, opts)) return { checks, waitedMs: Date.now() - started };
    } catch (err) {
      if (!(err instanceof RegistryError) || !err.retryable) throw err;
      error = err;
    }
    const now = Date.now();
    if (now >= deadline) throw new ImageNotFound(image, tag, now - started, checks, error);
    // The last pause ends at the deadline, so the final check happens right on it.
    const delayMs = Math.min(backoffDelay(checks - 1, { initialDelayMs, maxDelayMs }, random), deadline - now);
    const info: WaitInfo = { checks, waitedMs: now - started, delayMs, ...(error && { error }) };
    onWait?.(info);
    await heartbeat?.(info);
    await sleep(delayMs, undefined, { signal });
  }
}

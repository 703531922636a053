/**
 * The queue consumer every run mode shares (embedded process, `fjord worker`): keeps up to `concurrency`
 * jobs in flight (the queue itself allows one per group), extends each job's visibility while it runs
 * (heartbeat), acks every job that reached an outcome — a failed deploy is final, not redelivered
 * forever — and retries only on `RetryableError` or an unexpected crash of the handler. A job a gate holds
 * is handed back as lib/worker/hand-back.ts says (on SQS: a fresh copy per hold round).
 */
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import type { Timeline } from '../notify/timeline.js';
import type { Queue, Received } from '../queue/queue.js';
import { GateWait } from '../gates/gate.js';
import type { Outcome } from './outcome.js';
import { handBackOf, logHandBack, requeueCopy } from './hand-back.js';

export interface JobContext {
  /** Keep the job hidden from other workers for `sec` more seconds (e.g. while waiting for an image). */
  heartbeat(sec?: number): Promise<void>;
  attempts: number;
  logger: Logger;
  signal: AbortSignal;
  /** Milestones of this job for the notifiers (set by the deploy handler; absent in the CLI). */
  timeline?: Timeline;
  /** True once a deploy at least as new waits behind this job in its group (queues that can tell: the embedded one). */
  newerWaiting?(): boolean;
  /** This delivery is a copy a gate held before (SQS): once the gates pass, a deploy yields with `GateReleased`. */
  heldBefore?: boolean;
}

export type JobHandler = (job: DeployJob, ctx: JobContext) => Promise<Outcome>;

export interface WorkerOptions {
  queue: Queue;
  handle: JobHandler;
  logger: Logger;
  concurrency?: number;
  visibilitySec?: number;
  /** Pause between empty receives. */
  idleMs?: number;
  onOutcome?: (job: DeployJob, outcome: Outcome) => void;
  /**
   * The longest one round of holding keeps a job a gate holds invisible. Default: the whole wait, which a
   * queue cuts to what it can keep (SQS: 12 h a round); tests shorten it.
   */
  maxHoldSec?: number;
}

export interface RunningWorker {
  /** Stop taking jobs and wait for the ones in flight. */
  stop(): Promise<void>;
  /** Resolves once nothing is in flight and the last receive came back empty. */
  idle(): Promise<void>;
}

export function startWorker({
  queue,
  handle,
  logger,
  concurrency = 4,
  visibilitySec = 900,
  idleMs = 100,
  onOutcome,
  maxHoldSec = Number.POSITIVE_INFINITY,
}: WorkerOptions): RunningWorker {
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let idleWaiters: Array<() => void> = [];
  let lastEmpty = false;

  const runOne = async (msg: Received) => {
    const log = logger.child({
      job: msg.job.id,
      app: msg.job.app,
      environment: msg.job.environment,
      attempt: msg.attempts,
    });
    const beat = setInterval(() => void queue.extend(msg, visibilitySec).catch(() => {}), (visibilitySec * 1000) / 3);
    beat.unref();
    try {
      const ctx: JobContext = {
        heartbeat: (sec = visibilitySec) => queue.extend(msg, sec),
        attempts: msg.attempts,
        logger: log,
        signal: abort.signal,
        ...(queue.newerWaiting ? { newerWaiting: () => queue.newerWaiting!(msg) } : {}),
        ...(msg.held ? { heldBefore: true } : {}),
      };
      const outcome = await handle(msg.job, ctx);
      clearInterval(beat);
      await queue.ack(msg);
      log.info('job done', {
        status: outcome.status,
        detail: outcome.detail,
        reason: msg.job.reason,
        tag: msg.job.tag,
      });
      onOutcome?.(msg.job, outcome);
    } catch (err) {
      clearInterval(beat);
      const back = handBackOf(err, msg, maxHoldSec);
      // A queue that counts receives per message (SQS): the job a gate holds waits as a fresh copy.
      if (
        back.copy &&
        queue.requeue &&
        (await requeueCopy(queue.requeue.bind(queue), msg, err as Error, back.held, log))
      )
        return;
      logHandBack(err, back.delaySec, log);
      // Held by a gate (a freeze): back to the queue until it opens, without using up an attempt where the
      // queue can tell (`defer`).
      const handBack =
        err instanceof GateWait && queue.defer ? queue.defer(msg, back.delaySec) : queue.retry(msg, back.delaySec);
      await handBack.catch((e) => log.warn('hand-back failed; visibility timeout will redeliver', { error: e }));
    }
  };

  const loop = async () => {
    while (!abort.signal.aborted) {
      const free = concurrency - inFlight.size;
      let got: Received[] = [];
      if (free > 0) {
        try {
          got = await queue.receive(free, visibilitySec);
        } catch (err) {
          logger.warn('queue receive failed', { error: err });
        }
      }
      for (const msg of got) {
        const p = runOne(msg).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      lastEmpty = got.length === 0;
      if (lastEmpty && inFlight.size === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
      if (got.length === 0) {
        if (free > 0 || inFlight.size === 0) await sleep(idleMs, abort.signal);
        else await Promise.race([...inFlight, sleep(idleMs, abort.signal)]);
      }
    }
  };
  const looping = loop();

  return {
    async stop() {
      abort.abort();
      await looping;
      await Promise.allSettled([...inFlight]);
    },
    idle: () => new Promise<void>((resolve) => idleWaiters.push(resolve)),
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

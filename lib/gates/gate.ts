/**
 * Gates (issue 14): checks that decide, before the manifest commit, whether a job may go on now, must wait
 * until a time (with a reason people read), or is refused. Freezes are the first gate; approvals and
 * holds plug in the same way. A gate reads only what fjord.yaml, the manifest repository and the
 * platform's API say, never the queue message: a message cannot open a gate.
 */
import type { DeployJob } from '../job.js';
import { FjordError } from '../errors.js';

export type GateDecision =
  | { verdict: 'pass'; trailers?: Record<string, string> }
  | { verdict: 'wait'; until: Date; reason: string }
  // Waits for people, maybe for hours (approvals): the job ends now instead of holding its queue group, and a
  // person's action sends it again (lib/commands/approvals.ts).
  | { verdict: 'park'; reason: string }
  | { verdict: 'refuse'; reason: string }
  // A newer deploy of the environment replaced this one while both waited (lib/gates/freeze-waits.ts): it ends here.
  | { verdict: 'supersede'; reason: string };

export interface GateInput {
  job: DeployJob;
  now: Date;
  /** Overrides a person gave on the command line (`fjord deploy --override-freeze "<reason>"`), by gate name. */
  overrides: Readonly<Record<string, string>>;
}

export interface Gate {
  name: string;
  check(input: GateInput): Promise<GateDecision>;
}

/** A job handed back to its queue until `until` (the worker loop defers it): not a failure, and not an attempt used up. */
export class GateWait extends Error {
  /** Seconds from the check until `until`, at least 1. */
  readonly delaySec: number;
  constructor(
    readonly until: Date,
    readonly reason: string,
    now: Date,
  ) {
    super(reason);
    this.name = 'GateWait';
    this.delaySec = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  }
}

/** A job a gate parked (it waits for approvals, recorded in git): ends as `waiting`, nothing committed, its group freed. */
export class GateParked extends FjordError {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'GateParked';
  }
}

/**
 * The gates now pass for a deploy that a gate held before on a queue that cannot look behind a group's
 * head (SQS FIFO): handed back behind the deploys that queued up during the wait instead of run first, so
 * a newer one rolls out first and the superseded check skips this one (README "Deploy freezes").
 */
export class GateReleased extends Error {
  constructor(readonly job: DeployJob) {
    super(
      `the gates of ${job.app}/${job.environment} now pass; handed back behind the deploys that queued during the wait`,
    );
    this.name = 'GateReleased';
  }
}

/** A job a newer deploy replaced while both waited at a gate: reported `superseded`, nothing committed. */
export class GateSuperseded extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'GateSuperseded';
  }
}

/** A job a gate refuses outright: reported failed, nothing committed. */
export class GateRefused extends FjordError {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'GateRefused';
  }
}

/**
 * Runs every gate; the job passes only when all do. Of several waits the latest wins (all must be open),
 * a refusal or a supersession ends it at once, a park wins over a wait (the gates are all checked again when it is sent
 * again). Passing gates' trailers (an override's reason) are merged for the commit.
 */
export async function checkGates(gates: readonly Gate[], input: GateInput): Promise<Record<string, string>> {
  const trailers: Record<string, string> = {};
  let wait: Extract<GateDecision, { verdict: 'wait' }> | undefined;
  let park: string | undefined;
  for (const gate of gates) {
    const d = await gate.check(input);
    if (d.verdict === 'refuse') throw new GateRefused(d.reason);
    // At once, like a refusal: a later gate must not record a replaced job as waiting (approvals).
    if (d.verdict === 'supersede') throw new GateSuperseded(d.reason);
    if (d.verdict === 'park') park = d.reason;
    if (d.verdict === 'wait' && (!wait || d.until > wait.until)) wait = d;
    if (d.verdict === 'pass') Object.assign(trailers, d.trailers);
  }
  if (park !== undefined) throw new GateParked(park);
  if (wait) throw new GateWait(wait.until, wait.reason, input.now);
  return trailers;
}

/** What the deploy pipeline hands its gates: the gates, the clock (tests move it), a person's overrides (CLI only). */
export interface GatePorts {
  gates?: readonly Gate[];
  now?: () => Date;
  overrides?: Readonly<Record<string, string>>;
}

/** Runs the pipeline's gates for `job`: the trailers to commit, or throws `GateWait` / `GateParked` / `GateRefused` / `GateSuperseded`. */
export const passGates = (
  job: DeployJob,
  { gates = [], now = () => new Date(), overrides = {} }: GatePorts,
): Promise<Record<string, string>> => checkGates(gates, { job, now: now(), overrides });

/**
 * One host's rollout: lock → record what runs → pull → replace → health → switch → unlock, within the
 * host's deadline. Already running `image:tag` and healthy: `unchanged`, nothing replaced.
 */
import type { Fleet } from '../ssh/fleet.js';
import type { SshSession } from '../ssh/types.js';
import { checkHealth } from './check-health.js';
import { deployCommands, imageRef, type HostTarget } from './host-commands.js';
import { lockHost, unlockHost } from './host-lock.js';
import { readRunningOn } from './read-running.js';
import { StepFailed, type StepRunner } from './host-steps.js';
import type { EnvironmentConfig } from '../config/schema.js';
import type { RunningImage, Step } from './types.js';

export interface HostContext {
  fleet: Fleet;
  host: string;
  env: EnvironmentConfig;
  stateDir: string;
  lockStaleAfterMs: number;
  /** Owner file text; its first line is `token=<token>`. */
  lockOwner: string;
  token: string;
}

export interface HostOutcome {
  status: 'updated' | 'unchanged' | 'failed';
  /** What ran before (undefined: nothing); known once the inspect step ran. */
  previous?: RunningImage;
  inspected: boolean;
  /** A step that changes the host began: a rollback must put it back. */
  changed: boolean;
  failure?: StepFailed;
  /** The lock could not be released (the rollout itself may still have succeeded). */
  unlockError?: StepFailed;
}

const LIVE = new Set(['running', 'recorded']);
const CHANGES: ReadonlySet<Step> = new Set(['configure', 'stop', 'start', 'hook', 'switch', 'record']);

/** Runs the health check when one is configured. */
export async function healthStep(run: StepRunner, session: SshSession, env: EnvironmentConfig, signal?: AbortSignal): Promise<void> {
  const hc = env.rollout.healthCheck;
  if (hc) await run.step('health', () => checkHealth(session, hc, run.deadline, signal));
}

export async function deployHost(ctx: HostContext, target: HostTarget, run: StepRunner, signal?: AbortSignal): Promise<HostOutcome> {
  const out: HostOutcome = { status: 'failed', inspected: false, changed: false };
  let session: SshSession | undefined;
  let locked = false;
  try {
    session = await run.step('connect', () => ctx.fleet.session(ctx.host));
    const s = session;
    await run.step('lock', (t) => lockHost(s, ctx.stateDir, ctx.lockOwner, ctx.lockStaleAfterMs, t));
    locked = true;
    out.previous = await run.step('inspect', (t) => readRunningOn(s, { app: target.app, environment: target.environment, env: ctx.env, stateDir: ctx.stateDir }, { timeoutMs: t }));
    out.inspected = true;
    if (out.previous && out.previous.ref === imageRef(target.image, target.tag) && LIVE.has(out.previous.state)) {
      // Idempotent: the host already runs this tag. Still checked, so a sick container gets replaced.
      const healthy = await healthStep(run, s, ctx.env, signal).then(() => true, () => false);
      if (healthy) {
        out.status = 'unchanged';
        return out;
      }
    }
    const commands = deployCommands(target, out.previous);
    for (const cmd of commands.before) {
      if (CHANGES.has(cmd.step)) out.changed = true;
      await run.command(s, cmd);
    }
    await healthStep(run, s, ctx.env, signal);
    for (const cmd of commands.after) await run.command(s, cmd);
    out.status = 'updated';
  } catch (err) {
    out.failure = err instanceof StepFailed ? err : new StepFailed('connect', err);
  } finally {
    if (locked && session) {
      const s = session;
      await run.step('unlock', () => unlockHost(s, ctx.stateDir, ctx.token), { cleanup: true }).catch((err: StepFailed) => (out.unlockError = err));
    }
  }
  return out;
}

/**
 * Runs one host's steps: timing per step, `host-step` events, the host's deadline (`hostTimeout`) passed
 * down as each command's timeout, and the abort signal checked before each step.
 */
import { performance } from 'node:perf_hooks';
import type { SshSession } from '../ssh/types.js';
import { CommandFailed, CommandTimeout } from '../ssh/errors.js';
import { HostTimeout, RolloutAborted } from './errors.js';
import { parsePhase, phaseScript, type PhaseCmd, type PhaseResult } from './phase-script.js';
import type { RolloutEvent, Step } from './types.js';

const CLEANUP_MS = 15_000;
// A phase script's own deadline past its commands' budget: their `timeout` on the host ends them first.
const PHASE_GRACE_MS = 3_000;
// `timeout`'s exit statuses (TERM, then KILL after `-k`).
const TIMED_OUT = new Set([124, 137]);

export class StepFailed extends Error {
  constructor(
    readonly step: Step,
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

export interface StepRunnerOptions {
  host: string;
  timeoutMs: number;
  rollback?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: RolloutEvent) => void;
  /** Per-command cap below the host deadline (`ssh.commandTimeout`); the session default when absent. */
  commandTimeoutMs?: number;
}

export function stepRunner(o: StepRunnerOptions) {
  const deadline = Date.now() + o.timeoutMs;
  const timings: Record<string, number> = {};
  const key = (step: Step) => (o.rollback ? `rollback.${step}` : step);
  const emit = (e: RolloutEvent) => {
    try {
      o.onEvent?.(e);
    } catch {
      // A progress printer's bug must not break a rollout half-way.
    }
  };

  /** Throws when `name` may not start (aborted, past the deadline); else the time left for it. */
  function guard(name: Step, cleanup: boolean): number {
    // A rollback runs to the end even when the rollout was aborted: it is what makes the fleet whole again.
    if (!o.rollback && !cleanup && o.signal?.aborted)
      throw new StepFailed(name, new RolloutAborted(`host ${o.host}: rollout aborted before ${name}`));
    // Clean-up (the unlock) runs past the deadline too, with a short deadline of its own.
    const left = cleanup ? CLEANUP_MS : deadline - Date.now();
    if (left <= 0) throw new StepFailed(name, new HostTimeout(o.host, o.timeoutMs, name));
    return left;
  }
  const begin = (name: Step) =>
    emit({ type: 'host-step', host: o.host, step: name, status: 'start', ...(o.rollback ? { rollback: true } : {}) });
  const done = (name: Step, ms: number, status: 'ok' | 'failed') => {
    timings[key(name)] = (timings[key(name)] ?? 0) + ms;
    emit({ type: 'host-step', host: o.host, step: name, status, ms, ...(o.rollback ? { rollback: true } : {}) });
  };
  /** The error a step ends with: the runner killed the command at the host's deadline is the host timing out. */
  const failure = (name: Step, err: unknown, cleanup = false) =>
    err instanceof StepFailed
      ? err
      : err instanceof CommandTimeout && !cleanup && Date.now() >= deadline - 50
        ? new StepFailed(name, new HostTimeout(o.host, o.timeoutMs, name))
        : new StepFailed(name, err);
  const budget = (left: number) => (o.commandTimeoutMs ? Math.min(left, o.commandTimeoutMs) : left);

  /** Runs `fn(timeoutMs)` as `step`; any error becomes a StepFailed naming the step. */
  async function step<T>(name: Step, fn: (timeoutMs: number) => Promise<T>, { cleanup = false } = {}): Promise<T> {
    const left = guard(name, cleanup);
    begin(name);
    const started = performance.now();
    try {
      const result = await fn(budget(left));
      done(name, Math.round(performance.now() - started), 'ok');
      return result;
    } catch (err) {
      done(name, Math.round(performance.now() - started), 'failed');
      throw failure(name, err, cleanup);
    }
  }

  /** Judges a phase command's result as `command` would: `check` when it has one, else a non-zero exit fails it (`undo`, `explain`). */
  async function judge(session: SshSession, cmd: PhaseCmd, r: PhaseResult): Promise<void> {
    if (cmd.check) return cmd.check(r);
    if (r.exitCode === 0 || cmd.mayFail) return;
    if (cmd.undo) await session.exec(cmd.undo, { step: cmd.step, timeoutMs: CLEANUP_MS }).catch(() => undefined);
    const err = new CommandFailed(o.host, cmd.argv, r.exitCode, r.stderr, cmd.step);
    throw cmd.explain ? cmd.explain(err) : err;
  }

  /** Runs a command as its step; `mayFail` commands ignore a non-zero exit; a failed one runs its `undo`. */
  const command = (session: SshSession, cmd: PhaseCmd) =>
    step(cmd.step, async (timeoutMs) => {
      // A command with its own budget (a health check loop) may run past `ssh.commandTimeout`, not the host's deadline.
      const ms = cmd.budgetMs === undefined ? timeoutMs : Math.max(1, Math.min(deadline - Date.now(), cmd.budgetMs));
      const options = { step: cmd.step, timeoutMs: ms, ...(cmd.stdin ? { stdin: cmd.stdin.reveal() } : {}) };
      if (cmd.mayFail || cmd.check) {
        const r = await session.exec(cmd.argv, options);
        cmd.check?.(r);
        return r;
      }
      try {
        return await session.run(cmd.argv, options);
      } catch (err) {
        if (cmd.undo) await session.exec(cmd.undo, { step: cmd.step, timeoutMs: CLEANUP_MS }).catch(() => undefined);
        throw cmd.explain && err instanceof CommandFailed ? cmd.explain(err) : err;
      }
    });

  /**
   * Runs `cmds` as ONE remote script (phase-script.ts), then judges each as its own step from what the host
   * reported: the same step names, timings, events and errors as `command` one by one, in one round trip.
   * `ran` is told of each command the host ran (with what it reported), before it is judged. Resolves with the results in order.
   */
  async function phase(
    session: SshSession,
    cmds: readonly PhaseCmd[],
    ran: (cmd: PhaseCmd, r?: PhaseResult) => void = () => {},
  ): Promise<PhaseResult[]> {
    if (cmds.length <= 1) {
      const out: PhaseResult[] = [];
      for (const cmd of cmds) {
        ran(cmd);
        out.push(await command(session, cmd));
      }
      return out;
    }
    const first = cmds[0]!.step;
    const left = guard(first, false);
    const each = budget(left);
    begin(first);
    const started = performance.now();
    const stdin = cmds.find((c) => c.stdin)?.stdin;
    let reported: PhaseResult[];
    let scriptErr = '';
    try {
      const total = cmds.reduce((sum, c) => sum + (c.budgetMs ?? each), 0);
      const r = await session.exec(phaseScript(cmds, each), {
        step: first,
        timeoutMs: Math.min(left, total) + PHASE_GRACE_MS,
        ...(stdin ? { stdin: stdin.reveal() } : {}),
      });
      reported = parsePhase(r.stdout);
      scriptErr = r.stderr;
    } catch (err) {
      done(first, Math.round(performance.now() - started), 'failed');
      throw failure(first, err);
    }
    const out: PhaseResult[] = [];
    for (const [i, cmd] of cmds.entries()) {
      const r = reported[i];
      if (i > 0) begin(cmd.step);
      if (!r) {
        done(cmd.step, 0, 'failed');
        throw new StepFailed(
          cmd.step,
          new Error(
            `host ${o.host}: the phase script ended before ${cmd.step} ran${scriptErr.trim() ? `: ${scriptErr.trim().split('\n').pop()}` : ''}`,
          ),
        );
      }
      ran(cmd, r);
      const ms = r.ms ?? 0;
      try {
        const own = cmd.budgetMs ?? each;
        if (TIMED_OUT.has(r.exitCode) && ms >= own - 1000) throw new CommandTimeout(o.host, cmd.argv, own, cmd.step);
        await judge(session, cmd, r);
      } catch (err) {
        done(cmd.step, ms, 'failed');
        throw failure(cmd.step, err);
      }
      done(cmd.step, ms, 'ok');
      out.push(r);
      // The host stopped the script here (a `go` command's check let a failure pass): nothing after it ran.
      if (r.exitCode !== 0 && !cmd.mayFail && !cmd.go) break;
    }
    return out;
  }

  return { step, command, phase, timings, deadline, emit };
}

export type StepRunner = ReturnType<typeof stepRunner>;

/**
 * Runs one host's steps: timing per step, `host-step` events, the host's deadline (`hostTimeout`) passed
 * down as each command's timeout, and the abort signal checked before each step.
 */
import { performance } from 'node:perf_hooks';
import type { SshSession } from '../ssh/types.js';
import { CommandFailed, CommandTimeout } from '../ssh/errors.js';
import { HostTimeout, RolloutAborted } from './errors.js';
import type { Cmd } from './host-commands.js';
import type { RolloutEvent, Step } from './types.js';

const CLEANUP_MS = 15_000;

export class StepFailed extends Error {
  constructor(readonly step: Step, readonly error: unknown) {
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

  /** Runs `fn(timeoutMs)` as `step`; any error becomes a StepFailed naming the step. */
  async function step<T>(name: Step, fn: (timeoutMs: number) => Promise<T>, { cleanup = false } = {}): Promise<T> {
    // A rollback runs to the end even when the rollout was aborted: it is what makes the fleet whole again.
    if (!o.rollback && !cleanup && o.signal?.aborted) throw new StepFailed(name, new RolloutAborted(`host ${o.host}: rollout aborted before ${name}`));
    // Clean-up (the unlock) runs past the deadline too, with a short deadline of its own.
    const left = cleanup ? CLEANUP_MS : deadline - Date.now();
    if (left <= 0) throw new StepFailed(name, new HostTimeout(o.host, o.timeoutMs, name));
    emit({ type: 'host-step', host: o.host, step: name, status: 'start', ...(o.rollback ? { rollback: true } : {}) });
    const started = performance.now();
    const done = (status: 'ok' | 'failed') => {
      const ms = Math.round(performance.now() - started);
      timings[key(name)] = (timings[key(name)] ?? 0) + ms;
      emit({ type: 'host-step', host: o.host, step: name, status, ms, ...(o.rollback ? { rollback: true } : {}) });
    };
    try {
      const result = await fn(o.commandTimeoutMs ? Math.min(left, o.commandTimeoutMs) : left);
      done('ok');
      return result;
    } catch (err) {
      done('failed');
      // The runner killed the command at the host's deadline: that is the host timing out.
      if (err instanceof CommandTimeout && !cleanup && Date.now() >= deadline - 50) throw new StepFailed(name, new HostTimeout(o.host, o.timeoutMs, name));
      throw new StepFailed(name, err);
    }
  }

  /** Runs a command as its step; `mayFail` commands ignore a non-zero exit; a failed one runs its `undo`. */
  const command = (session: SshSession, cmd: Cmd) =>
    step(cmd.step, async (timeoutMs) => {
      if (cmd.mayFail) return session.exec(cmd.argv, { step: cmd.step, timeoutMs });
      try {
        return await session.run(cmd.argv, { step: cmd.step, timeoutMs, ...(cmd.stdin ? { stdin: cmd.stdin.reveal() } : {}) });
      } catch (err) {
        if (cmd.undo) await session.exec(cmd.undo, { step: cmd.step, timeoutMs: CLEANUP_MS }).catch(() => undefined);
        throw cmd.explain && err instanceof CommandFailed ? cmd.explain(err) : err;
      }
    });

  return { step, command, timings, deadline, emit };
}

export type StepRunner = ReturnType<typeof stepRunner>;

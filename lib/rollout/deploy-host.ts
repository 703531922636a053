/**
 * One host's rollout: lock → record what runs → pull → replace → health → switch → unlock, within the
 * host's deadline. Already running `image:tag` and healthy: `unchanged`, nothing replaced (`updated` when
 * an earlier delivery of the same job put it there: see `recordBefore`).
 */
import { performance } from 'node:perf_hooks';
import type { SshSession } from '../ssh/types.js';
import { checkHealth } from './check-health.js';
import { collectDiagnostics } from './collect-diagnostics.js';
import { envValues } from '../secret.js';
import { deployCommands, imageRef } from './host-commands.js';
import type { Cmd, HostTarget } from './host-command-types.js';
import type { HostContext } from './host-context.js';
import type { PhaseCmd } from './phase-script.js';
import { StepFailed, type StepRunner } from './host-steps.js';
import { parseBefore, readBefore, recordBefore } from './state-commands.js';
import { verifyStarted } from './verify-started.js';
import { probeAt, runningProbes } from './proxy/probe-at.js';
import { withLockedHost } from './with-locked-host.js';
import { applyFiles } from './apply-files.js';
import type { DesiredFile } from '../files/desired-files.js';
import { envFileMatches, readEnvFile, SECRETS_LABEL } from './env-file-commands.js';
import { hashFiles } from '../files/file-commands.js';
import { envFileChanges } from '../secrets/env-file-changes.js';
import type { KeyChanges } from '../secrets/key-changes.js';
import type { EnvironmentConfig } from '../config/schema.js';
import type { FailureDiagnostics, HealthProbeRecord, RunningImage, Step } from './types.js';

export interface HostOutcome {
  status: 'updated' | 'unchanged' | 'failed';
  /** What ran before (undefined: nothing); known once the inspect step ran. */
  previous?: RunningImage;
  inspected: boolean;
  /** A step that changes the host began: a rollback must put it back. */
  changed: boolean;
  failure?: StepFailed;
  /** The new container's logs, state and probes when it failed to start or to pass its health check. */
  diagnostics?: FailureDiagnostics;
  /** The lock could not be released (the rollout itself may still have succeeded). */
  unlockError?: StepFailed;
  /** Stop-then-start (no proxy): from stopping the old container to the new one passing its checks. */
  downtimeMs?: number;
  /** Managed files this rollout swapped on the host: a rollback puts their previous bytes back. */
  files?: DesiredFile[];
  /** Only files changed: the container was left as it ran (its rollback restores the files alone). */
  containerKept?: boolean;
  /** The host's env file before this rollout against the new one, by variable name. */
  secrets?: KeyChanges;
}

const LIVE = new Set(['running', 'recorded']);
const CHANGES: ReadonlySet<Step> = new Set(['configure', 'stop', 'start', 'hook', 'switch', 'record']);

/** Runs the health check when one is configured. */
export async function healthStep(
  run: StepRunner,
  session: SshSession,
  env: EnvironmentConfig,
  signal?: AbortSignal,
): Promise<void> {
  const hc = env.rollout.healthCheck;
  if (hc) await run.step('health', () => checkHealth(session, hc, run.deadline, signal));
}

/**
 * The commands after the health check as two phases: behind a proxy the traffic switch alone first, so
 * its step ends (and is reported) when traffic moved, then drain, stop and the rest in one round trip;
 * without one, all of them at once. The first phase runs with the health check (`verifyStarted`'s `next`).
 */
export function splitAfter(target: HostTarget, after: readonly Cmd[]): [Cmd[], Cmd[]] {
  const cut = target.rollout.proxy ? after.findIndex((c) => c.step === 'switch') + 1 : after.length;
  return [after.slice(0, cut), after.slice(cut)];
}

/** Runs the commands after the health check as the phases of `splitAfter`. */
export async function afterPhases(
  run: StepRunner,
  s: SshSession,
  target: HostTarget,
  after: readonly Cmd[],
): Promise<void> {
  for (const phase of splitAfter(target, after)) await run.phase(s, phase);
}

export async function deployHost(
  ctx: HostContext,
  target: HostTarget,
  run: StepRunner,
  signal?: AbortSignal,
): Promise<HostOutcome> {
  const out: HostOutcome = { status: 'failed', inspected: false, changed: false };
  try {
    await withLockedHost(
      ctx,
      target,
      run,
      async (s, running, [before]) => {
        // An earlier delivery of this job (its worker died) may have changed the host already: then the
        // host counts as changed by this job, and what ran before is the one recorded then.
        const earlier = parseBefore(before!.stdout, target.jobId);
        out.previous =
          earlier === undefined ? running : earlier ? { ref: earlier, state: 'recorded', labels: {} } : undefined;
        out.inspected = true;
        out.changed = earlier !== undefined;
        out.containerKept = earlier === undefined; // until a step changes the container
        // Files first (validate → swap → reload), then the container (DESIGN.md "Desired state beyond the tag").
        const applied = await applyFiles(run, s, ctx.host, ctx.files ?? [], target.jobId, (f) => {
          out.changed = true;
          out.files ??= [];
          out.files.push(f);
        });
        // Same image and same secrets (the label is the encrypted file's digest): nothing to restart.
        const sameSecrets = (running?.labels[SECRETS_LABEL] ?? '') === (target.secrets?.digest ?? '');
        // ...and the env file as git says (a hand edit or a deleted file is replaced, and the app restarted with it).
        const envFileOk = async () =>
          !target.secrets ||
          envFileMatches(
            (await run.command(s, { step: 'inspect', argv: hashFiles([target.secrets.path]) })).stdout,
            target.secrets,
          );
        if (
          running &&
          running.ref === imageRef(target.image, target.tag) &&
          LIVE.has(running.state) &&
          sameSecrets &&
          !applied.restart &&
          (await envFileOk())
        ) {
          const check = () =>
            probeAt(run, s, ctx.env, runningProbes(ctx.env.rollout, running)).then((env) =>
              healthStep(run, s, env, signal),
            );
          if (applied.changed.length) {
            // Only files changed: the app must pass its health check with them, or the host fails (and its files go back).
            await check();
            out.status = 'updated';
            return;
          }
          // Idempotent: the host already runs this tag. Still checked, so a sick container gets replaced.
          const healthy = await check().then(
            () => true,
            () => false,
          );
          if (healthy) {
            out.status = earlier === undefined ? 'unchanged' : 'updated';
            return;
          }
        }
        const commands = deployCommands(target, running);
        const [now, later] = splitAfter(target, commands.after);
        const transcript: HealthProbeRecord[] = [];
        let stopped: number | undefined; // stop-then-start: when the old container stopped serving
        // One phase, one round trip: the reads and the record before anything changes, then the changes.
        const envRead: PhaseCmd[] = target.secrets ? [{ step: 'inspect', argv: readEnvFile(target.secrets.path) }] : [];
        const record: PhaseCmd[] =
          earlier === undefined
            ? [
                {
                  step: 'inspect',
                  argv: recordBefore(ctx.stateDir, target.app, target.environment, target.jobId, running?.ref ?? ''),
                },
              ]
            : [];
        let at = performance.now(); // when the next command of the phase started, as far as the host said
        try {
          // Which variables change on this host, for the report and the note: the old file is read into memory
          // only; known even when a later command of the phase fails.
          const changes = (stdout: string) => {
            if (target.secrets) out.secrets = envFileChanges(stdout, target.secrets.envFile);
          };
          const results = await run.phase(s, [...envRead, ...record, ...commands.before], (cmd, r) => {
            if (cmd === envRead[0] && r) changes(r.stdout);
            if (CHANGES.has(cmd.step)) {
              out.changed = true;
              out.containerKept = false;
            }
            if (cmd.step === 'stop') stopped ??= at;
            at += r?.ms ?? 0;
          });
          if (envRead.length && !out.secrets) changes(results[0]!.stdout);
          const switched = await verifyStarted(
            run,
            s,
            await probeAt(run, s, ctx.env, commands.probes),
            commands.started,
            { transcript, next: now, ...(signal ? { signal } : {}) },
          );
          // Until the checks passed: the switch that ran with them in the same phase is not downtime.
          if (stopped !== undefined)
            out.downtimeMs = Math.round(performance.now() - stopped - switched.reduce((ms, r) => ms + (r.ms ?? 0), 0));
        } catch (err) {
          // Read while the container still exists: the rollback removes it.
          if (commands.started && err instanceof StepFailed && (err.step === 'start' || err.step === 'health'))
            out.diagnostics = await collectDiagnostics(
              s,
              commands.started,
              transcript,
              ctx.redact ?? envValues(ctx.env.rollout.container.env),
            );
          throw err;
        }
        await run.phase(s, later);
        out.status = 'updated';
      },
      (err) => (out.unlockError = err),
      [{ step: 'inspect', argv: readBefore(ctx.stateDir, target.app, target.environment) }],
    );
  } catch (err) {
    out.failure = err instanceof StepFailed ? err : new StepFailed('connect', err);
  }
  return out;
}

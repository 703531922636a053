/**
 * The rollout engine: batches in sequence, a batch's hosts in parallel. On any failure no new batch
 * starts, the batch in flight finishes, and every host this rollout changed (the failed one included,
 * and the successful ones of earlier batches) goes back to its previous image. Hosts never reached stay
 * untouched. A failed rollback is reported (`rollback-failed`, `mixedVersions`), never hidden.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { IMAGE, TAG } from '../grammar.js';
import type { Fleet } from '../ssh/fleet.js';
import { deployHost, type HostOutcome } from './deploy-host.js';
import type { HostContext } from './host-context.js';
import { InvalidRollout } from './errors.js';
import { prePullCommand } from './host-commands.js';
import type { HostTarget } from './host-command-types.js';
import { stepRunner, type StepFailed } from './host-steps.js';
import { planBatches } from './plan-batches.js';
import { FROM_RECORD, rollbackHost } from './rollback-host.js';
import { lockOwner } from './state-commands.js';
import type { HostReport, RolloutFailure, RolloutInput, RolloutOptions, RolloutReport } from './types.js';
import { describeFailure } from './describe-failure.js';
import { eachLimited } from './each-limited.js';
import { envValues, scrub } from '../secret.js';
import { envFilePath } from './env-file-commands.js';
import { secretValues } from '../secrets/load-app-secrets.js';

/** Checks what will reach a host before any connection: grammar of image and tag, known hosts, strategy config. */
export function validateRollout(input: RolloutInput, fleet: Fleet): void {
  const problems: string[] = [];
  if (!IMAGE.test(input.image) || input.image.length > 255)
    problems.push(`image ${JSON.stringify(input.image)} is not a valid image name`);
  if (!TAG.test(input.tag))
    problems.push(`tag ${JSON.stringify(input.tag)} is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
  const known = new Set(fleet.hosts.map((h) => h.name));
  for (const h of input.hosts) if (!known.has(h)) problems.push(`unknown host ${JSON.stringify(h)}`);
  if (new Set(input.hosts).size !== input.hosts.length) problems.push('a host is listed twice');
  const r = input.env.rollout;
  if (r.strategy === 'compose' && !r.compose)
    problems.push('rollout.strategy is compose but rollout.compose is not set');
  if (r.strategy === 'command' && !r.command?.deploy.length)
    problems.push('rollout.strategy is command but rollout.command.deploy is empty');
  if (problems.length)
    throw new InvalidRollout(`${input.app}/${input.environment}: ${problems.join('; ')}; nothing was run`);
}

export async function rolloutEnvironment(
  input: RolloutInput,
  fleet: Fleet,
  options: RolloutOptions,
): Promise<RolloutReport> {
  validateRollout(input, fleet);
  const started = performance.now();
  const { onEvent, signal } = options;
  const token = randomBytes(12).toString('hex');
  const owner = lockOwner({
    token,
    jobId: input.jobId,
    app: input.app,
    environment: input.environment,
    owner: options.owner ?? `${hostname()} pid ${process.pid}`,
    time: new Date(),
  });
  const secrets = input.secrets && {
    path: envFilePath(options.stateDir, input.app, input.environment),
    digest: input.secrets.digest,
    envFile: input.secrets.envFile,
  };
  const target: HostTarget = {
    app: input.app,
    environment: input.environment,
    jobId: input.jobId,
    image: input.image,
    tag: input.tag,
    rollout: input.env.rollout,
    stateDir: options.stateDir,
    ...(secrets ? { secrets } : {}),
  };
  const context = (host: string): HostContext => ({
    fleet,
    host,
    env: input.env,
    stateDir: options.stateDir,
    lockStaleAfterMs: options.lockStaleAfterMs,
    lockOwner: owner,
    token,
    jobId: input.jobId,
    redact,
    files: input.files?.get(host) ?? [],
  });
  const runner = (host: string, rollback = false) =>
    stepRunner({
      host,
      timeoutMs: input.env.rollout.hostTimeout,
      rollback,
      signal,
      onEvent,
      ...(options.commandTimeoutMs ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
    });
  const emit = (e: Parameters<NonNullable<typeof onEvent>>[0]) => {
    try {
      onEvent?.(e);
    } catch {}
  };

  const reports = new Map<string, HostReport>(
    input.hosts.map((host) => [host, { host, status: 'untouched', timings: {} }]),
  );
  const outcomes = new Map<string, HostOutcome>();
  let failed: RolloutFailure | undefined;
  const redact = [...envValues(input.env.rollout.container.env), ...secretValues(input.secrets)];
  const fail = (host: string, f: StepFailed, diagnostics?: HostReport['diagnostics']) => {
    const d = describeFailure(f);
    const report = reports.get(host)!;
    // `docker run`'s argv in a message carries `-e K=V`: masked like the container's own output.
    const message = scrub(d.message, redact);
    const stderrTail = scrub(d.stderrTail, redact);
    Object.assign(report, {
      status: 'failed',
      step: d.step,
      error: message,
      errorName: d.errorName,
      ...(stderrTail ? { stderrTail } : {}),
      ...(diagnostics ? { diagnostics } : {}),
    });
    failed ??= { host, step: d.step, message, errorName: d.errorName, stderrTail };
  };

  // Every host is connected first: a host key mismatch or an unreachable host stops the rollout before
  // anything runs anywhere. The sessions are reused by the batches.
  const preflight = await Promise.all(
    input.hosts.map(async (host) => {
      const run = runner(host);
      const error = await run
        .step('connect', () => fleet.session(host))
        .then(
          () => undefined,
          (e: StepFailed) => e,
        );
      Object.assign(reports.get(host)!.timings, run.timings);
      return { host, error };
    }),
  );
  for (const { host, error } of preflight) if (error) fail(host, error);

  // Pull everywhere first (bounded parallelism): a registry problem on any host fails the rollout before
  // any host changes, and the batches then cost only start + health + switch.
  const pull = prePullCommand(target);
  if (!failed && pull) {
    await eachLimited(input.hosts, input.env.rollout.pullParallel, async (host) => {
      if (failed) return; // no new pulls after a failure; the ones in flight finish
      const run = runner(host);
      const error = await run
        .step('connect', () => fleet.session(host))
        .then((s) => run.command(s, pull))
        .then(
          () => undefined,
          (e: StepFailed) => e,
        );
      Object.assign(reports.get(host)!.timings, run.timings);
      if (error) fail(host, error);
    });
    if (!failed) target.pulled = true;
  }

  const batches = planBatches(input.hosts, input.env.rollout.batchSize, input.env.rollout.canary);
  for (const [index, batch] of batches.entries()) {
    if (failed) break;
    if (signal?.aborted) {
      failed = {
        host: batch[0]!,
        step: 'aborted',
        message: 'rollout aborted',
        errorName: 'RolloutAborted',
        stderrTail: '',
      };
      break;
    }
    const batchStart = performance.now();
    emit({ type: 'batch-start', batch: index, hosts: batch });
    await Promise.all(
      batch.map(async (host) => {
        const run = runner(host);
        const outcome = await deployHost(context(host), target, run, signal);
        outcomes.set(host, outcome);
        const report = reports.get(host)!;
        Object.assign(report.timings, run.timings);
        if (outcome.previous) report.previousImage = outcome.previous.ref;
        if (outcome.secrets) report.secrets = outcome.secrets;
        if (outcome.downtimeMs !== undefined) report.downtimeMs = outcome.downtimeMs;
        if (outcome.failure) fail(host, outcome.failure, outcome.diagnostics);
        else report.status = outcome.status;
        if (outcome.unlockError && !outcome.failure) report.error = `lock not released: ${outcome.unlockError.message}`;
        emit({ type: 'host-done', host, status: report.status });
      }),
    );
    emit({ type: 'batch-end', batch: index, ok: !failed, ms: Math.round(performance.now() - batchStart) });
  }

  let mixedVersions: string | undefined;
  if (failed) {
    // Hosts that ran the new version, or started changing: back to what each ran before.
    const touched = [...outcomes]
      .filter(([, o]) => o.status === 'updated' || (o.failure && o.changed))
      .map(([host]) => host);
    // Hosts this delivery never reached: an earlier delivery of the job (its worker died) may have changed them.
    const unreached = input.hosts.filter((h) => !outcomes.has(h) && !preflight.find((p) => p.host === h)?.error);
    emit({ type: 'rollback-start', hosts: touched, reason: failed.message });
    const broken: string[] = [];
    await Promise.all(
      [...touched, ...unreached].map(async (host) => {
        const run = runner(host, true);
        const report = reports.get(host)!;
        const sweep = !outcomes.has(host);
        let recorded = false;
        try {
          const o = outcomes.get(host);
          const back = await rollbackHost(
            context(host),
            target,
            sweep ? FROM_RECORD : o!.previous,
            run,
            () => (recorded = true),
            o?.files ? { changed: o.files, containerKept: o.containerKept === true } : {},
          );
          if (back === false) return;
          if (sweep && back) report.previousImage = back;
          report.status = 'rolled-back';
        } catch (err) {
          // A host never reached whose record could not be read: nothing is known to undo there.
          if (sweep && !recorded) return;
          const d = describeFailure(err);
          broken.push(host);
          Object.assign(report, {
            status: 'rollback-failed',
            step: d.step,
            error: `rollback failed: ${scrub(d.message, redact)}`,
            errorName: d.errorName,
            ...(d.stderrTail ? { stderrTail: scrub(d.stderrTail, redact) } : {}),
          });
        } finally {
          if (!sweep || report.status !== 'untouched') {
            Object.assign(report.timings, run.timings);
            emit({ type: 'host-done', host, status: report.status });
          }
        }
      }),
    );
    if (broken.length) {
      const updated = [...reports.values()].filter((r) => r.status === 'rollback-failed').map((r) => r.host);
      mixedVersions = `the fleet runs a mix of versions: rollback failed on ${updated.join(', ')} (they may run ${input.image}:${input.tag} or nothing); the other hosts run their previous image`;
    }
    emit({ type: 'rollback-end', ok: broken.length === 0 });
  }

  return {
    ok: !failed,
    hosts: input.hosts.map((h) => reports.get(h)!),
    ...(failed ? { failed } : {}),
    ...(mixedVersions ? { mixedVersions } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

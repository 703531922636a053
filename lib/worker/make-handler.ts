/**
 * Wires the deploy pipeline's ports from fjord.yaml: the manifest store of `manifest.backend`, and the
 * registry check with the credentials of `registries`. Every run mode (embedded, Lambda, `fjord worker`,
 * the CLI's deploy and rollback) builds its handler here, so they differ only in their queue. The handler
 * sends `reconcile` and `heal` jobs (issue 7) to lib/reconcile, everything else to the deploy pipeline.
 */
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { createManifestStore } from '../manifest/create-store.js';
import type { ManifestStore } from '../manifest/store.js';
import { registryCredentials, TokenCache, waitForImage } from '../registry/index.js';
import { rolloutEnvironment } from '../rollout/rollout-environment.js';
import type { DeployJob } from '../job.js';
import { deploy } from './deploy.js';
import type { DeployPorts } from './ports.js';
import { createLogger } from '../log.js';
import { createNotifier } from '../notify/from-config.js';
import type { Notifier } from '../notify/notifier.js';
import { runWithFeedback } from '../notify/run-with-feedback.js';
import type { JobHandler } from './worker-loop.js';
import { makePlanHandler } from '../plan/make-plan-handler.js';
import { healEnvironment } from '../reconcile/heal-environment.js';
import { reconcileEnvironment } from '../reconcile/reconcile-environment.js';
import { fleetForConfig } from '../reconcile/fleet-for.js';
import { secretList } from '../config/secrets.js';
import { refusalOf, refusedOutcome } from './refuse-job.js';
import { sourceApiFromConfig } from './confirm-source.js';
import { gatesFor } from '../gates/gates-for.js';
import { GateParked, GateRefused, GateReleased, GateSuperseded, GateWait, passGates } from '../gates/gate.js';
import { ORDERED_REASONS } from './superseded.js';
import { runCommand } from '../commands/run-command.js';
import { commandPlatformFor } from '../commands/platform-from-config.js';
import { recordApprovals } from '../commands/approvals.js';
import { accessFromConfig } from '../gates/access-from-config.js';

export interface HandlerOptions {
  config: Config;
  /** Path of fjord.yaml: relative repository paths resolve against its directory. */
  configPath: string;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Tests and the CLI may hand in their own store. */
  store?: ManifestStore;
  /** Where promotions are queued (the run mode's queue). */
  enqueue?: (job: DeployJob) => Promise<void>;
  onRolloutEvent?: DeployPorts['onRolloutEvent'];
  /** The clock of the self-heal back-off and of the gates (freeze windows); tests inject one. */
  now?: () => Date;
}

export function makeDeployPorts({
  config,
  configPath,
  dataDir,
  env = process.env,
  store,
  enqueue,
  onRolloutEvent,
  now,
  notifier,
}: HandlerOptions & { notifier?: Notifier }): DeployPorts {
  const credentials = registryCredentials(config.registries, env);
  const tokens = new TokenCache();
  const manifests =
    store ?? createManifestStore(config, { env, dataDir: join(dataDir, 'manifests'), baseDir: dirname(configPath) });
  const sourceApi = sourceApiFromConfig(config, env);
  return {
    // One fleet (one SSH connection per host) per rollout, closed when it ends.
    async rollout(input, options) {
      const fleet = fleetForConfig(config, env, dirname(configPath))(input.hosts);
      try {
        return await rolloutEnvironment(input, fleet, {
          ...options,
          stateDir: config.ssh.stateDir,
          lockStaleAfterMs: config.ssh.lockStaleAfter,
          commandTimeoutMs: config.ssh.commandTimeout,
        });
      } finally {
        await fleet.close();
      }
    },
    ...(enqueue ? { enqueue } : {}),
    ...(onRolloutEvent ? { onRolloutEvent } : {}),
    ...sourceApi,
    config,
    ageIdentities: secretList(env, config.secrets.identityEnv),
    store: manifests,
    gates: gatesFor(config, {
      store: manifests,
      env,
      now: now ?? (() => new Date()),
      // A deploy parked for approvals that a newer one replaced ends there: its note and status say by which.
      ...(notifier
        ? { onReplaced: (replaced, detail) => notifier.jobFinished(replaced, { status: 'superseded', detail }) }
        : {}),
    }),
    ...(now ? { now } : {}),
    waitForImage: (ref, { deadlineMs, heartbeat, signal }) =>
      waitForImage(ref, {
        deadlineMs,
        credentials,
        tokens,
        heartbeat: ({ delayMs }) => heartbeat().then(() => delayMs),
        ...(signal ? { signal } : {}),
      }),
  };
}

/**
 * The queue's deploy pipeline with feedback around it (GitLab: commit status, MR note with the timeline, deployment;
 * chat). `plan` jobs go to lib/plan, `reconcile` jobs to the drift check, `heal` jobs roll drifted hosts back.
 */
export function makeDeployHandler(options: HandlerOptions & { notifier?: Notifier }): JobHandler {
  const notifier =
    options.notifier ?? createNotifier(options.config, { env: options.env ?? process.env, logger: createLogger() });
  const ports = makeDeployPorts({ ...options, notifier });
  const plan = makePlanHandler({
    config: options.config,
    configPath: options.configPath,
    env: options.env ?? process.env,
    store: ports.store,
  });
  const fleetFor = fleetForConfig(options.config, options.env ?? process.env, dirname(options.configPath));
  const now = options.now;
  const { enqueue } = options;
  const platformOf = commandPlatformFor(options.config, options.env ?? process.env, createLogger());
  const approvals = recordApprovals({
    config: options.config,
    store: ports.store,
    accessFor: accessFromConfig(options.config, options.env ?? process.env),
    ...(now ? { now } : {}),
    ...(enqueue ? { enqueue } : {}),
    notifier,
  });
  return async (job, ctx) => {
    // Every job here came from a queue: fjord.yaml, not the message, decides what runs. Refused before any
    // feedback (no commit status or note for a job nobody ordered); the log line keeps the whole job.
    const refused = refusalOf(job, options.config);
    if (refused) {
      ctx.logger.error('job refused', { detail: refused, job: { ...job } });
      return refusedOutcome(refused);
    }
    // A plan deploys nothing: no commit status, deploy note or deployment; it writes its own plan note.
    if (job.reason === 'plan') return plan(job, ctx);
    // A `/fjord` comment (lib/commands): permission checked through the API, answered in its thread.
    if (job.reason === 'command') {
      const platform = platformOf(job);
      return runCommand(job, ctx, {
        config: ports.config,
        store: ports.store,
        deployPorts: ports,
        deploy,
        plan,
        fleetFor,
        approvals,
        ...(platform ? { platform } : {}),
        ...(enqueue ? { enqueue } : {}),
      });
    }
    // A drift check is no deploy: nothing to tell GitLab about (its report is the log and the outcome).
    if (job.reason === 'reconcile')
      return reconcileEnvironment(job, ctx, {
        config: ports.config,
        store: ports.store,
        fleetFor,
        ...(enqueue ? { enqueue } : {}),
        ...(now ? { now } : {}),
        ...(ports.ageIdentities ? { ageIdentities: ports.ageIdentities } : {}),
      });
    // A job a gate holds (a freeze) is handed back before it starts: a waiting note and status, no Deployment.
    // The pipeline checks again right before its commit (a freeze may begin while it waits for its image).
    try {
      await passGates(job, ports);
    } catch (err) {
      if (err instanceof GateWait) await notifier.jobWaiting?.(job, err);
      else if (err instanceof GateParked) {
        // Waits for people (approvals): it ends here, freeing its group; the approval sends it again.
        await notifier.jobWaiting?.(job, { until: new Date(), reason: err.reason });
        return { status: 'waiting', detail: err.reason };
      } else if (err instanceof GateRefused) return { status: 'failed', detail: `refused: ${err.message}` };
      else if (err instanceof GateSuperseded) {
        // Its note and status said "waiting": they now name the deploy that replaced it.
        const outcome = { status: 'superseded' as const, detail: err.reason };
        await notifier.jobFinished(job, outcome);
        return outcome;
      }
      throw err;
    }
    // Held before on SQS, whose group order cannot be looked behind: deploys queued during the wait go first.
    if (ctx.heldBefore && ORDERED_REASONS.has(job.reason)) throw new GateReleased(job);
    // The notifier never throws: a failed report never fails a deploy.
    return runWithFeedback(job, ctx, notifier, (c) =>
      job.reason === 'heal'
        ? healEnvironment(job, c, { deployPorts: ports, deploy, fleetFor, ...(now ? { now } : {}) })
        : deploy(job, c, ports),
    );
  };
}

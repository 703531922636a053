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
import { openFleet } from '../ssh/fleet.js';
import { sshAuthFromConfig, sshHostsFromConfig, sshOptionsFromConfig } from '../ssh/from-config.js';
import type { DeployJob } from '../job.js';
import { deploy, type DeployPorts } from './deploy.js';
import { createLogger } from '../log.js';
import { createNotifier } from '../notify/from-config.js';
import type { Notifier } from '../notify/notifier.js';
import type { JobHandler } from './worker-loop.js';
import { healEnvironment } from '../reconcile/heal-environment.js';
import { reconcileEnvironment } from '../reconcile/reconcile-environment.js';
import type { Fleet } from '../ssh/fleet.js';

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
  /** The clock of the self-heal back-off (tests inject one). */
  now?: () => Date;
}

export function makeDeployPorts({ config, configPath, dataDir, env = process.env, store, enqueue, onRolloutEvent }: HandlerOptions): DeployPorts {
  const credentials = registryCredentials(config.registries, env);
  const tokens = new TokenCache();
  return {
    // One fleet (one SSH connection per host) per rollout, closed when it ends.
    async rollout(input, options) {
      const fleet = fleetFromConfig(config, configPath, env)(input.hosts);
      try {
        return await rolloutEnvironment(input, fleet, { ...options, stateDir: config.ssh.stateDir, lockStaleAfterMs: config.ssh.lockStaleAfter, commandTimeoutMs: config.ssh.commandTimeout });
      } finally {
        await fleet.close();
      }
    },
    ...(enqueue ? { enqueue } : {}),
    ...(onRolloutEvent ? { onRolloutEvent } : {}),
    config,
    store: store ?? createManifestStore(config, { env, dataDir: join(dataDir, 'manifests'), baseDir: dirname(configPath) }),
    waitForImage: (ref, { deadlineMs, heartbeat }) =>
      waitForImage(ref, { deadlineMs, credentials, tokens, heartbeat: ({ delayMs }) => heartbeat().then(() => delayMs) }),
  };
}

/** Fleets over named hosts of fjord.yaml; the key is read per fleet, so a missing key fails that job, not start-up. */
export const fleetFromConfig = (config: Config, configPath: string, env: NodeJS.ProcessEnv) => (hosts: readonly string[]): Fleet =>
  openFleet(sshHostsFromConfig(config, hosts), sshAuthFromConfig(config.ssh, env, dirname(configPath)), sshOptionsFromConfig(config.ssh));

/** The deploy pipeline with feedback to GitLab around it (commit status, MR note, deployment). */
export function makeDeployHandler(options: HandlerOptions & { notifier?: Notifier }): JobHandler {
  const ports = makeDeployPorts(options);
  const notifier = options.notifier ?? createNotifier(options.config, { env: options.env ?? process.env, logger: createLogger() });
  const fleetFor = fleetFromConfig(options.config, options.configPath, options.env ?? process.env);
  const now = options.now;
  const { enqueue } = options;
  return async (job, ctx) => {
    // A drift check is no deploy: nothing to tell GitLab about (its report is the log and the outcome).
    if (job.reason === 'reconcile') return reconcileEnvironment(job, ctx, { config: ports.config, store: ports.store, fleetFor, ...(enqueue ? { enqueue } : {}), ...(now ? { now } : {}) });
    // The notifier never throws: a failed report never fails a deploy.
    await notifier.jobStarted(job);
    const outcome = job.reason === 'heal' ? await healEnvironment(job, ctx, { deployPorts: ports, deploy, fleetFor, ...(now ? { now } : {}) }) : await deploy(job, ctx, ports);
    await notifier.jobFinished(job, outcome);
    return outcome;
  };
}

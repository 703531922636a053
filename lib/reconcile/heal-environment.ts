/**
 * The worker's `heal` job: roll the drifted and missing hosts of one environment back to the manifest's
 * tag through the deploy pipeline (same host locks, same rollback). Before it acts it checks the drift
 * again, so a stale or repeated heal does nothing: the drift must be the one its id names, and the ledger
 * must expect this attempt (or this very job must be resuming after a redelivery). It writes the attempt
 * to the ledger on those hosts before the rollout and the outcome after it.
 */
import type { DeployJob } from '../job.js';
import type { Fleet } from '../ssh/fleet.js';
import type { DeployPorts } from '../worker/ports.js';
import type { Outcome } from '../worker/outcome.js';
import type { JobContext } from '../worker/worker-loop.js';
import { checkEnvironmentDrift } from './check-environment.js';
import { describeHeal } from './decide-heal.js';
import { parseHealJobId } from './drift-id.js';
import { writeHealRecords } from './heal-ledger.js';

export interface HealPorts {
  deployPorts: DeployPorts;
  /** The deploy pipeline (lib/worker/deploy.ts), run with `ports`. */
  deploy(job: DeployJob, ctx: JobContext, ports: DeployPorts): Promise<Outcome>;
  fleetFor(hosts: readonly string[]): Fleet;
  now?(): Date;
}

/** The deploy ports with the rollout narrowed to `hosts`: a heal leaves in-sync and unreachable hosts alone. */
export function onlyHosts(ports: DeployPorts, hosts: readonly string[]): DeployPorts {
  const rollout = ports.rollout;
  if (!rollout) return ports;
  return {
    ...ports,
    rollout: (input, options) => rollout({ ...input, hosts: input.hosts.filter((h) => hosts.includes(h)) }, options),
  };
}

export async function healEnvironment(job: DeployJob, ctx: JobContext, ports: HealPorts): Promise<Outcome> {
  const { config, store } = ports.deployPorts;
  const now = ports.now ?? (() => new Date());
  const env = config.apps[job.app]?.environments[job.environment];
  if (!env) return { status: 'failed', detail: `fjord.yaml has no environment ${job.app}/${job.environment}` };
  if (!env.selfHeal)
    return { status: 'noop', detail: `selfHeal is off for ${job.app}/${job.environment}; heal not run` };
  const id = parseHealJobId(job.id);
  if (!id) return { status: 'failed', detail: `heal job id ${job.id} names no drift (heal-<drift>-<attempt>)` };
  const fleet = ports.fleetFor(env.hosts);
  try {
    const ageIdentities = ports.deployPorts.ageIdentities;
    const drift = await checkEnvironmentDrift({
      config,
      store,
      fleet,
      app: job.app,
      environment: job.environment,
      now: now(),
      ...(ageIdentities ? { ageIdentities } : {}),
    });
    const decision = drift.heal;
    if (drift.error) return { status: 'noop', detail: `heal not run: ${drift.file}: ${drift.error}` };
    if (!decision) return { status: 'noop', detail: 'heal not needed: no host is drifted or missing any more' };
    if (decision.drift !== id.drift)
      return {
        status: 'noop',
        detail: 'heal not run: the drift changed since it was planned; the next reconcile decides',
      };
    const resuming = drift.hosts.some((h) => h.healRecord?.job === job.id && h.healRecord.outcome === 'running');
    if (!resuming && decision.jobId !== job.id)
      return { status: 'noop', detail: `heal attempt ${id.attempt} not run: ${describeHeal(decision)}` };
    const target = { fleet, stateDir: config.ssh.stateDir, app: job.app, environment: job.environment };
    const record = { drift: id.drift, attempts: id.attempt, job: job.id };
    // Counted before it acts: a heal that dies mid-way (crash, timeout) still used its attempt.
    const unrecorded = await writeHealRecords(target, decision.hosts, {
      ...record,
      at: now().toISOString(),
      outcome: 'running',
    });
    // Without a record anywhere the next reconcile could not count this attempt: no ledger, no heal.
    if (unrecorded.length === decision.hosts.length)
      return {
        status: 'failed',
        detail: `heal attempt ${id.attempt} not run: could not record it on ${unrecorded.join(', ')}`,
      };
    if (unrecorded.length) ctx.logger.warn('heal attempt not recorded on some hosts', { hosts: unrecorded });
    ctx.logger.info('heal', {
      attempt: id.attempt,
      limit: decision.limit,
      hosts: decision.hosts,
      tag: drift.desiredTag,
    });
    const outcome = await ports.deploy(job, ctx, onlyHosts(ports.deployPorts, decision.hosts));
    await writeHealRecords(target, decision.hosts, { ...record, at: now().toISOString(), outcome: outcome.status });
    return {
      ...outcome,
      detail: `heal attempt ${id.attempt}/${decision.limit} of ${decision.hosts.join(', ')}: ${outcome.detail ?? outcome.status}`,
    };
  } finally {
    await fleet.close();
  }
}

/**
 * The worker's `reconcile` job (issue 7): check one environment's drift, clear the self-heal records of
 * hosts that are in sync again, report the drift (log line and outcome), and — `selfHeal: true`, a host
 * drifted or missing, and the ledger allowing it — enqueue ONE `heal` job through the normal queue path.
 * The job runs in the environment's queue group, so never during a deploy of it.
 */
import type { Config } from '../config/schema.js';
import type { DeployJob } from '../job.js';
import type { ManifestStore } from '../manifest/store.js';
import type { Secret } from '../secret.js';
import type { Fleet } from '../ssh/fleet.js';
import type { Outcome } from '../worker/outcome.js';
import type { JobContext } from '../worker/worker-loop.js';
import { checkEnvironmentDrift } from './check-environment.js';
import type { HostDrift } from './classify-host.js';
import { describeHeal } from './decide-heal.js';
import { driftDetail } from './format-drift.js';
import { isInSync } from './drift.js';
import type { EnvironmentDrift } from './drift-types.js';
import { clearHealRecords } from './heal-ledger.js';
import { makeHealJob } from './make-heal-job.js';
import { readHold } from '../holds/read-hold.js';
import { heldText } from '../holds/hold.js';

export interface ReconcilePorts {
  config: Config;
  store: ManifestStore;
  /** A fleet over the named hosts; closed by the caller of `fleetFor` (here). */
  fleetFor(hosts: readonly string[]): Fleet;
  /** The run mode's queue. Absent: a due heal is reported, not enqueued. */
  enqueue?(job: DeployJob): Promise<void>;
  /** The clock of the ledger's back-off (tests inject one). */
  now?(): Date;
  /** The worker's age identities: env files are compared with git's secrets. */
  ageIdentities?: readonly Secret[];
}

const tagOf = (ref: string | undefined) => (ref === undefined ? 'nothing' : ref.slice(ref.lastIndexOf(':') + 1));
const hostText = (h: HostDrift) =>
  h.status === 'unreachable'
    ? `${h.host} unreachable (${h.errorName})`
    : `${h.host} ${h.status} (running ${tagOf(h.running)}${h.state && h.state !== 'running' ? `, ${h.state}` : ''}${driftDetail(h) ? `; ${driftDetail(h)}` : ''})`;

/** `web-2 drifted (running v0-hotfix), web-4 missing (running v1, exited); want v1`. */
export const summarizeDrift = (e: EnvironmentDrift): string =>
  `${e.hosts
    .filter((h) => h.status !== 'in-sync')
    .map(hostText)
    .join(', ')}; want ${e.desiredTag ?? 'no tag'}`;

export async function reconcileEnvironment(job: DeployJob, ctx: JobContext, ports: ReconcilePorts): Promise<Outcome> {
  const { config } = ports;
  const env = config.apps[job.app]?.environments[job.environment];
  if (!env) return { status: 'failed', detail: `fjord.yaml has no environment ${job.app}/${job.environment}` };
  const now = (ports.now ?? (() => new Date()))();
  const fleet = ports.fleetFor(env.hosts);
  let drift: EnvironmentDrift;
  try {
    drift = await checkEnvironmentDrift({
      config,
      store: ports.store,
      fleet,
      app: job.app,
      environment: job.environment,
      now,
      ...(ports.ageIdentities ? { ageIdentities: ports.ageIdentities } : {}),
    });
    // In sync again: the drift is over, and so is its attempt count.
    const settled = drift.hosts.filter((h) => h.status === 'in-sync' && h.healRecord).map((h) => h.host);
    const target = { fleet, stateDir: config.ssh.stateDir, app: job.app, environment: job.environment };
    const left = settled.length ? await clearHealRecords(target, settled) : [];
    if (left.length) ctx.logger.warn('could not clear heal records', { hosts: left });
  } finally {
    await fleet.close();
  }
  if (drift.error) return { status: 'failed', detail: `${drift.file}: ${drift.error}`, drift };
  if (isInSync(drift)) {
    ctx.logger.info('in sync', { tag: drift.desiredTag, hosts: drift.hosts.length });
    return {
      status: 'noop',
      detail: `in sync at ${drift.desiredTag ?? 'no tag'} on ${drift.hosts.length} host(s)`,
      drift,
    };
  }
  // Held (lib/holds): the manifest may say a version that was committed but deliberately not rolled out;
  // healing toward it would undo the hold. The drift is reported as held, nothing is enqueued.
  const hold = await readHold(ports.store, job.app, job.environment);
  if (hold) {
    ctx.logger.warn('drift', {
      tag: drift.desiredTag,
      held: true,
      hosts: drift.hosts.map((h) => ({ host: h.host, status: h.status, running: h.running })),
    });
    return {
      status: 'drifted',
      detail: `HELD: ${summarizeDrift(drift)}; not healed: ${heldText(hold, job.app, job.environment)}`,
      drift,
      held: true,
    };
  }
  let healText = drift.heal ? describeHeal(drift.heal) : env.selfHeal ? 'nothing a heal could fix' : 'selfHeal is off';
  const heal = drift.heal;
  if (heal?.action === 'heal' && heal.jobId && drift.desiredTag !== undefined) {
    if (ports.enqueue) {
      await ports.enqueue(
        makeHealJob(config, job.app, job.environment, drift.desiredTag, { ...heal, jobId: heal.jobId }, now),
      );
      healText = `heal attempt ${heal.attempts + 1}/${heal.limit} enqueued (job ${heal.jobId}) for ${heal.hosts.join(', ')}`;
    } else healText += ' (not enqueued: no queue in this run mode)';
  }
  const detail = `DRIFT: ${summarizeDrift(drift)}; ${healText}`;
  ctx.logger.warn('drift', {
    tag: drift.desiredTag,
    hosts: drift.hosts.map((h) => ({ host: h.host, status: h.status, running: h.running })),
    heal: healText,
  });
  return { status: 'drifted', detail, drift };
}

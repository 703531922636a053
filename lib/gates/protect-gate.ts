/**
 * The protected-environment gate (issue 14, item 2), after GitLab's protected environments and deployment
 * approvals: with `protect.minAccessLevel`, the person who merged (or asked, `/fjord deploy`) needs that
 * access level on the source (or manifest) project, read through the API, or the deploy is refused; with
 * `protect.approvals: N`, the deploy waits until N distinct people other than its deployer, each with
 * `protect.approvers.minAccessLevel`, said `/fjord approve <env>` (lib/commands/approvals.ts). On first
 * sight the deploy is recorded as the one waiting (approval-record.ts), replacing — and so expiring the
 * approvals of — any other, and the job ends as `waiting` (parked): it does not hold its queue group. The
 * approval that completes the count sends the recorded job again, and it passes here because the file
 * says this tag of this commit is approved. Without an API token to read access levels, a protected environment refuses: it
 * fails closed. Jobs that only put back what git says (converge, heal, rollback) and CLI deploys, whose
 * operator holds the manifest repository's credentials anyway, pass.
 */
import type { Config, EnvironmentConfig } from '../config/schema.js';
import type { DeployJob } from '../job.js';
import type { ManifestStore } from '../manifest/store.js';
import type { AccessReader, Person } from './access-reader.js';
import { changeWaiting, readWaiting, rejectedDetail, type Waiting } from './approval-record.js';
import { deployName } from './freeze-waits.js';
import type { Gate, GateDecision } from './gate.js';

export const APPROVED_BY_TRAILER = 'Fjord-Approved-By';
const GATED = new Set<DeployJob['reason']>(['merge', 'push', 'pipeline', 'promote', 'manual']);
const UNKNOWN_RETRY_MS = 60_000;

export type AccessFor = (provider: 'gitlab' | 'github') => AccessReader | undefined;

/** The project whose members count for `env`, and the platform it is on. */
export function protectedProject(
  config: Config,
  job: DeployJob,
  env: EnvironmentConfig,
): { project: string | undefined; provider: 'gitlab' | 'github' } {
  if (env.protect?.project === 'manifest') return { project: config.manifest.project, provider: 'gitlab' };
  const source = config.apps[job.app]!.source;
  return { project: source.project, provider: source.provider };
}

/** Approvals are for one deploy: this tag of this commit, whichever of its jobs (merge, push, the approved resend) asks. */
const isSameDeploy = (w: Waiting, job: DeployJob) => w.tag === job.tag && (w.sha ?? '') === (job.sha ?? '');

/**
 * The job the completing approval sends. A `/fjord deploy` order (reason `manual`) is never taken from a
 * queue (lib/worker/refuse-job.ts): its command is sent again instead, pinned to the tag, and asks again.
 */
export function replayOf(job: DeployJob): DeployJob {
  if (job.reason === 'manual' && job.command)
    return { ...job, reason: 'command', command: { ...job.command, tag: job.tag }, approved: true };
  return { ...job, approved: true };
}

/** Approvals that count: distinct people, never the deployer, each at the approvers' level. */
export function eligibleApprovals(w: Waiting, minLevel: number): Waiting['approvals'] {
  const seen = new Set<string>();
  return w.approvals.filter((a) => {
    const self = a.username === w.deployer.username || (a.id !== undefined && a.id === w.deployer.id);
    if (self || a.level < minLevel || seen.has(a.username)) return false;
    seen.add(a.username);
    return true;
  });
}

export function protectGate({
  config,
  store,
  accessFor,
  onReplaced,
}: {
  config: Config;
  store: ManifestStore;
  accessFor: AccessFor;
  /** A waiting deploy a newer one replaced (its approvals expired): its own note and status say so. */
  onReplaced?: (replaced: DeployJob, detail: string) => Promise<void>;
}): Gate {
  return {
    name: 'protect',
    async check({ job, now }): Promise<GateDecision> {
      const env = config.apps[job.app]?.environments[job.environment];
      const protect = env?.protect;
      if (
        !env ||
        !protect ||
        !GATED.has(job.reason) ||
        (job.source.provider !== 'gitlab' && job.source.provider !== 'github')
      )
        return { verdict: 'pass' };
      const where = `${job.app}/${job.environment}`;
      const { project, provider } = protectedProject(config, job, env);
      const access = accessFor(provider);
      if (!access || !project)
        return {
          verdict: 'refuse',
          reason: `${where} is protected, but no ${provider} API token is configured to read who may deploy there: refused (fails closed)`,
        };
      const who: Person = job.command
        ? { id: job.command.user.id, username: job.command.user.username }
        : { name: job.source.author, username: job.source.author };
      if (!who.username && who.id === undefined)
        return {
          verdict: 'refuse',
          reason: `${where} is protected, and this ${job.reason} job does not say who deployed it: refused`,
        };
      let deployer: Awaited<ReturnType<typeof access>>;
      try {
        deployer = await access(project, who);
      } catch (err) {
        const until = new Date(now.getTime() + UNKNOWN_RETRY_MS);
        return {
          verdict: 'wait',
          until,
          reason: `who may deploy to ${where} is unknown (${(err as Error).message.slice(0, 160)}); checking again at ${until.toISOString()}`,
        };
      }
      if (protect.minAccessLevel !== undefined && deployer.level < protect.minAccessLevel) {
        return {
          verdict: 'refuse',
          reason: `${deployer.username} may not deploy to ${where}: it needs access level ${protect.minAccessLevel} on ${project}, they have ${deployer.level}. Nothing was committed`,
        };
      }
      if (protect.approvals === 0) return { verdict: 'pass' };
      let waiting = await readWaiting(store, job.app, job.environment);
      const same = waiting !== undefined && isSameDeploy(waiting, job);
      if (waiting && !same && Date.parse(waiting.queuedAt) > Date.parse(job.enqueuedAt)) {
        return {
          verdict: 'refuse',
          reason: `replaced: a newer deploy (${waiting.tag}) waits for approval in ${where}`,
        };
      }
      if (same && waiting!.rejected) return { verdict: 'refuse', reason: rejectedDetail(waiting!.rejected) };
      if (!same) {
        const replaced = waiting;
        const entry: Waiting = {
          job: job.id,
          tag: job.tag,
          queuedAt: job.enqueuedAt,
          ...(job.sha ? { sha: job.sha } : {}),
          deployer: { username: deployer.username, ...(deployer.id !== undefined ? { id: deployer.id } : {}) },
          since: now.toISOString(),
          approvals: [],
          replay: replayOf(job),
        };
        const subject = `approvals(${where}): ${job.tag} waits for ${protect.approvals} approval(s)${replaced ? `, replacing ${replaced.tag}` : ''}`;
        let previous: Waiting | undefined;
        waiting = await changeWaiting(
          store,
          job.app,
          job.environment,
          (current) => {
            previous = current;
            return current && isSameDeploy(current, job) ? null : entry;
          },
          { subject, by: deployer.username },
        );
        // A `/fjord deploy` that waited has no note of its own (its comment thread had the answer).
        if (previous && !isSameDeploy(previous, job) && previous.replay.reason !== 'command')
          await onReplaced?.(
            previous.replay,
            `replaced by a newer deploy of ${where} waiting for approval: ${deployName(job)}; its approvals expired, not run`,
          );
      }
      const approved = eligibleApprovals(waiting!, protect.approvers.minAccessLevel);
      if (approved.length >= protect.approvals)
        return { verdict: 'pass', trailers: { [APPROVED_BY_TRAILER]: approved.map((a) => a.username).join(', ') } };
      // Parked, not deferred: an invisible message would hold the whole queue group (SQS FIFO) for hours.
      const by = approved.length ? ` (approved by ${approved.map((a) => a.username).join(', ')})` : '';
      return {
        verdict: 'park',
        reason: `waiting for ${approved.length} of ${protect.approvals} approvals${by}: \`/fjord approve ${job.environment}\` by someone other than ${waiting!.deployer.username} with access level ${protect.approvers.minAccessLevel} or more`,
      };
    },
  };
}

/**
 * `/fjord approve [<env>]` (issue 14, item 2): the commenter, whose permission run-command.ts already
 * checked, approves the deploy waiting in `<env>` (lib/gates/protect-gate.ts). Refused with a reply: an
 * environment needing no approvals, nothing waiting, the deployer approving their own deploy, an approver
 * below `protect.approvers.minAccessLevel` on the protected project. The approval is one commit of
 * `.fjord/approvals.yaml` (lib/gates/approval-record.ts), for that deploy alone. The approval that
 * completes the count sends the recorded job through the run mode's queue (`enqueue`), keyed by the
 * waiting job so it is never a duplicate; asked again by the same person, it is sent again (a send that
 * failed). Approvals after the count is complete send nothing.
 */
import type { Config } from '../config/schema.js';
import type { DeployJob } from '../job.js';
import type { ManifestStore } from '../manifest/store.js';
import type { Notifier } from '../notify/notifier.js';
import { changeWaiting, rejectedDetail, type Rejection, type Waiting } from '../gates/approval-record.js';
import { eligibleApprovals, protectedProject, type AccessFor } from '../gates/protect-gate.js';

export interface ApprovalAnswer {
  /** The reply in the comment's thread. */
  text: string;
}

export type Approvals = (job: DeployJob) => Promise<ApprovalAnswer>;

export const noApprovals: Approvals = async (job) => ({
  text: `no approvals are required for ${job.command?.environment ?? job.environment}`,
});

export function recordApprovals({
  config,
  store,
  accessFor,
  now = () => new Date(),
  enqueue,
  notifier,
}: {
  config: Config;
  store: ManifestStore;
  accessFor: AccessFor;
  now?: () => Date;
  enqueue?: (job: DeployJob) => Promise<void>;
  /** Tells the rejected deploy's own MR note and commit status (it said "waiting for approvals"). */
  notifier?: Pick<Notifier, 'jobFinished'>;
}): Approvals {
  return async (named) => {
    // `/fjord approve` without an environment: the app's one environment that needs approvals.
    const needing = Object.entries(config.apps[named.app]!.environments)
      .filter(([, e]) => e.protect?.approvals)
      .map(([n]) => n);
    if (!named.command?.environment && needing.length > 1)
      return {
        text: `name the environment: \`/fjord ${named.command!.verb} <env>\` (${needing.join(', ')} need approvals)`,
      };
    const job = named.command?.environment || !needing[0] ? named : { ...named, environment: needing[0] };
    const env = config.apps[job.app]!.environments[job.environment]!;
    const protect = env.protect;
    if (!protect?.approvals) return noApprovals(job);
    const user = job.command!.user;
    const where = `${job.app}/${job.environment}`;
    const { project, provider } = protectedProject(config, job, env);
    const access = accessFor(provider);
    if (!access || !project)
      return {
        text: `cannot ${job.command!.verb} ${where}: no ${provider} API token is configured to read approvers' access levels. Nothing was recorded.`,
      };
    const approver = await access(project, { id: user.id, username: user.username });
    if (approver.level < protect.approvers.minAccessLevel)
      return {
        text: `may not ${job.command!.verb} deploys to ${where}: it needs access level ${protect.approvers.minAccessLevel} on ${project}, you have ${approver.level}. Nothing was recorded.`,
      };
    const at = now().toISOString();
    if (job.command!.verb === 'reject')
      return reject(store, job, where, { username: user.username, id: user.id, at }, notifier);
    let problem: string | undefined;
    let mine = false;
    const min = protect.approvers.minAccessLevel;
    const waiting = await changeWaiting(
      store,
      job.app,
      job.environment,
      (current) => {
        mine = current?.approvals.some((a) => a.username === user.username) ?? false;
        problem = !current
          ? `nothing waits for approval in ${where}`
          : current.rejected
            ? rejectedText(current, where)
            : current.deployer.username === user.username || current.deployer.id === user.id
              ? `cannot approve your own deploy of ${current.tag} to ${where}: another person must`
              : undefined;
        if (problem || mine || eligibleApprovals(current!, min).length >= protect.approvals) return null;
        return {
          ...current!,
          approvals: [...current!.approvals, { username: user.username, id: user.id, at, level: approver.level }],
        };
      },
      { subject: `approve(${where}): by ${user.username}`, by: `${user.username} (${job.source.provider})` },
    );
    if (problem || !waiting) return { text: `${problem ?? `nothing waits for approval in ${where}`}.` };
    const eligible = eligibleApprovals(waiting, min);
    const count = `${Math.min(eligible.length, protect.approvals)} of ${protect.approvals} approvals`;
    if (eligible.length < protect.approvals)
      return { text: `${mine ? 'already approved' : 'approved'} ${waiting.tag} for ${where}: ${count}.` };
    // Only the approval that completed the count sends the deploy (again, when its approver asks again).
    if (eligible[protect.approvals - 1]!.username !== user.username)
      return { text: `${waiting.tag} for ${where} is already approved (${count}); nothing more is needed.` };
    if (!enqueue)
      return {
        text: `approved ${waiting.tag} for ${where}: ${count}; this run mode has no queue to send it on: deploy it with \`fjord deploy\`.`,
      };
    await enqueue(waiting.replay);
    return { text: `${mine ? 'already approved' : 'approved'} ${waiting.tag} for ${where}: ${count}; deploying.` };
  };
}

/**
 * `/fjord reject`: the waiting deploy is marked rejected in one commit (who, when, why); the gate refuses it
 * from then on (a redelivery, a later approval), and a newer deploy replaces the entry as usual.
 */
async function reject(
  store: ManifestStore,
  job: DeployJob,
  where: string,
  by: Rejection,
  notifier: Pick<Notifier, 'jobFinished'> | undefined,
): Promise<ApprovalAnswer> {
  const reason = job.command!.reason;
  let problem: string | undefined;
  const waiting = await changeWaiting(
    store,
    job.app,
    job.environment,
    (current) => {
      problem = !current ? `nothing waits for approval in ${where}` : current.rejected && rejectedText(current, where);
      if (problem) return null;
      return { ...current!, rejected: { ...by, ...(reason ? { reason } : {}) } };
    },
    {
      subject: `reject(${where}): by ${by.username}${reason ? `: ${reason}` : ''}`,
      by: `${by.username} (${job.source.provider})`,
    },
  );
  if (problem || !waiting) return { text: `${problem ?? `nothing waits for approval in ${where}`}.` };
  // The deploy's own note and status end too (failed: a person refused it); a `/fjord deploy` that waited
  // has no note of its own: its comment thread had the answer.
  if (waiting.replay.reason !== 'command')
    await notifier?.jobFinished(waiting.replay, { status: 'failed', detail: rejectedDetail(waiting.rejected!) });
  return {
    text: `rejected ${waiting.tag} for ${where}${reason ? ` (${reason})` : ''}: that deploy is refused and nothing was committed; a new merge asks again.`,
  };
}

const rejectedText = (w: Waiting, where: string) =>
  `${w.tag} for ${where} was rejected by ${w.rejected!.username}${w.rejected!.reason ? ` (${w.rejected!.reason})` : ''}`;

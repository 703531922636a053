/**
 * A `plan` job (issue 7, item 3), Atlantis' plan for a fleet: work out what merging the open merge request
 * will do (compute-plan.ts, read-only) and write it as one note on the MR (a comment on a GitHub pull
 * request), updated in place on later pushes.
 * Never commits, never locks a host, never changes one. A plan of a push the MR has since moved past is
 * dropped (`superseded`); a failure to talk to GitLab or GitHub is logged and never fails the job.
 */
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import type { PlanNotes } from '../notify/plan-notes.js';
import type { Outcome } from '../worker/outcome.js';
import type { JobContext } from '../worker/worker-loop.js';
import { computePlan, type ComputePorts } from './compute-plan.js';
import { planMarker, renderPlan } from './render-plan.js';

export interface PlanPorts extends ComputePorts {
  /** Where the note goes, per provider of the job's source; absent when there is none (no token configured). */
  notes?: Partial<Record<'gitlab' | 'github', PlanNotes>>;
}

export async function runPlan(job: DeployJob, ctx: JobContext, ports: PlanPorts): Promise<Outcome> {
  if (!ports.config.notify.planNotes) return { status: 'noop', detail: 'plan notes are off (notify.planNotes: false)' };
  if (!ports.config.apps[job.app]) return { status: 'failed', detail: `fjord.yaml has no app ${job.app}` };
  const { provider, project, mr } = job.source;
  const platform = provider === 'gitlab' || provider === 'github' ? PLATFORM[provider] : undefined;
  const notes = platform ? ports.notes?.[platform.provider] : undefined;
  if (!platform || !notes || !project || !mr || !job.sha) {
    const why = !platform
      ? `plan notes are written to GitLab merge requests and GitHub pull requests, not ${provider}`
      : !notes
        ? `no ${platform.name} token (${platform.tokenKey})`
        : 'the job names no merge request';
    return { status: 'noop', detail: `plan not made: ${why}` };
  }
  const ref = `${platform.sigil}${mr}`;
  const head = await attempt(ctx.logger, 'merge request lookup', () => notes.head(project, mr));
  if (head && head.state !== 'opened') return { status: 'superseded', detail: `${ref} is ${head.state}: no plan` };
  if (head?.sha && head.sha !== job.sha)
    return { status: 'superseded', detail: `${ref} moved on to ${head.sha.slice(0, 8)}: its own plan follows` };

  const plan = await computePlan(job, ports);
  const posted = await attempt(ctx.logger, 'plan note', () =>
    notes.upsert(project, mr, planMarker(job.app), renderPlan(plan)),
  );
  const hosts = plan.environments.flatMap((e) => e.hosts);
  const off = hosts.filter((h) => h.status !== 'in-sync').length;
  const envs = plan.environments.map((e) => e.environment).join(', ') || 'no environment';
  const note = posted ? `note ${posted.created ? 'written' : 'updated'}` : 'note NOT written (see the warning)';
  return {
    status: 'planned',
    detail: `${ref} deploys ${job.tag} to ${envs}; ${hosts.length} host(s), ${off} not in sync now; ${note}`,
    plan,
    ...(posted ? { noteId: posted.id } : {}),
  };
}

// How each platform names a merge request (`!12`, `#12`) and the token it needs.
const PLATFORM = {
  gitlab: { provider: 'gitlab', name: 'GitLab', sigil: '!', tokenKey: 'sources.gitlab.tokenEnv' },
  github: { provider: 'github', name: 'GitHub', sigil: '#', tokenKey: 'sources.github.tokenEnv' },
} as const;

/** Runs a call to GitLab or GitHub; a failure is a warning (with its HTTP status, never the request) and undefined. */
async function attempt<T>(logger: Logger, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const status = (err as { cause?: { response?: { status?: number } } })?.cause?.response?.status;
    logger.warn('notification failed', {
      what,
      error: `${(err as Error)?.name}: ${(err as Error)?.message}${status ? ` (HTTP ${status})` : ''}`,
    });
    return undefined;
  }
}

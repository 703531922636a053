/**
 * A `plan` job (issue 7, item 3), Atlantis' plan for a fleet: work out what merging the open merge request
 * will do (compute-plan.ts, read-only) and write it as one note on the MR, updated in place on later pushes.
 * Never commits, never locks a host, never changes one. A plan of a push the MR has since moved past is
 * dropped (`superseded`); a failure to talk to GitLab is logged and never fails the job.
 */
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import type { PlanNotes } from '../notify/gitlab-plan-note.js';
import type { Outcome } from '../worker/outcome.js';
import type { JobContext } from '../worker/worker-loop.js';
import { computePlan, type ComputePorts } from './compute-plan.js';
import { planMarker, renderPlan } from './render-plan.js';

export interface PlanPorts extends ComputePorts {
  /** Where the note goes; absent when there is none (no GitLab token configured). */
  notes?: PlanNotes;
}

export async function runPlan(job: DeployJob, ctx: JobContext, ports: PlanPorts): Promise<Outcome> {
  if (!ports.config.notify.planNotes) return { status: 'noop', detail: 'plan notes are off (notify.planNotes: false)' };
  if (!ports.config.apps[job.app]) return { status: 'failed', detail: `fjord.yaml has no app ${job.app}` };
  const { provider, project, mr } = job.source;
  const notes = ports.notes;
  if (!notes || provider !== 'gitlab' || !project || !mr || !job.sha) {
    const why = provider !== 'gitlab' ? `plan notes are written to GitLab merge requests, not ${provider}` : !notes ? 'no GitLab token (sources.gitlab.tokenEnv)' : 'the job names no merge request';
    return { status: 'noop', detail: `plan not made: ${why}` };
  }
  const head = await attempt(ctx.logger, 'merge request lookup', () => notes.head(project, mr));
  if (head && head.state !== 'opened') return { status: 'superseded', detail: `!${mr} is ${head.state}: no plan` };
  if (head?.sha && head.sha !== job.sha) return { status: 'superseded', detail: `!${mr} moved on to ${head.sha.slice(0, 8)}: its own plan follows` };

  const plan = await computePlan(job, ports);
  const posted = await attempt(ctx.logger, 'plan note', () => notes.upsert(project, mr, planMarker(job.app), renderPlan(plan)));
  const hosts = plan.environments.flatMap((e) => e.hosts);
  const off = hosts.filter((h) => h.status !== 'in-sync').length;
  const envs = plan.environments.map((e) => e.environment).join(', ') || 'no environment';
  const note = posted ? `note ${posted.created ? 'written' : 'updated'}` : 'note NOT written (see the warning)';
  return { status: 'planned', detail: `!${mr} deploys ${job.tag} to ${envs}; ${hosts.length} host(s), ${off} not in sync now; ${note}`, plan, ...(posted ? { noteId: posted.id } : {}) };
}

/** Runs a call to GitLab; a failure is a warning (with its HTTP status, never the request) and undefined. */
async function attempt<T>(logger: Logger, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const status = (err as { cause?: { response?: { status?: number } } })?.cause?.response?.status;
    logger.warn('notification failed', { what, error: `${(err as Error)?.name}: ${(err as Error)?.message}${status ? ` (HTTP ${status})` : ''}` });
    return undefined;
  }
}

/**
 * The approvals seam (issue 14): `/fjord approve [<env>]` is routed here. No environment requires an
 * approval yet, so the answer says so; approvals will be built behind this one function.
 */
import type { DeployJob } from '../job.js';

export interface ApprovalAnswer {
  /** The reply in the comment's thread. */
  text: string;
}

export type Approvals = (job: DeployJob) => Promise<ApprovalAnswer>;

export const noApprovals: Approvals = async (job) => ({ text: `no approvals are required for ${job.command?.environment ?? job.environment}` });

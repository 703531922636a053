/** The one message that travels from the receiver, through a queue, to a worker. */
import * as z from 'zod';
import { commandSchema } from './commands/command-schema.js';
import { branchSchema, imageSchema, nameSchema, projectSchema, shaSchema, tagSchema, textSchema } from './grammar.js';

export const REASONS = [
  'merge',
  'push',
  'pipeline',
  'manual',
  'rollback',
  'converge',
  'heal',
  'promote',
  'plan',
  'reconcile',
  'command',
] as const;
export type Reason = (typeof REASONS)[number];

/** Reasons whose jobs are not deploys of a source sha: their creator picks a deterministic `id`, which is their dedup key. */
export const KEYED_REASONS: readonly Reason[] = ['heal', 'plan', 'reconcile', 'command'];

export const deployJobSchema = z.strictObject({
  v: z.literal(1),
  id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  app: nameSchema,
  environment: nameSchema,
  image: imageSchema,
  tag: tagSchema,
  sha: shaSchema.optional(),
  reason: z.enum(REASONS),
  source: z.strictObject({
    provider: z.enum(['gitlab', 'github', 'cli', 'fjord']),
    project: projectSchema.optional(),
    ref: branchSchema.optional(),
    mr: z.number().int().positive().optional(),
    author: textSchema.optional(),
    deliveryId: z.string().max(200).optional(),
    /** When the source commit was made or merged: orders deploys that arrive out of order. */
    committedAt: z.iso.datetime({ offset: true }).optional(),
    /** A push's (or its pipeline's) `before`: the branch head it moved from. Orders a reset back to an older sha. */
    before: shaSchema.optional(),
  }),
  enqueuedAt: z.iso.datetime(),
  /** A `command` job: the `/fjord` comment it answers (lib/commands). */
  command: commandSchema.optional(),
  /** Sent again by the `/fjord approve` that completed its approvals (lib/commands/approvals.ts): changes only its dedup key; the gate reads the approvals from git. */
  approved: z.literal(true).optional(),
});

export type DeployJob = z.infer<typeof deployJobSchema>;

/** Queue group: one job in flight per app/environment, in order. */
// `/fjord approve` and `reject` run beside the environment's group, not in it: their answer never waits behind a rollout.
export const groupOf = (
  job: Pick<DeployJob, 'app' | 'environment'> & { command?: { verb: string } | undefined },
): string =>
  `${job.app}/${job.environment}${job.command?.verb === 'approve' || job.command?.verb === 'reject' ? '/approve' : ''}`;

/** Deduplication id: a merge and the push it causes end as one job. */
export const dedupIdOf = (
  job: Pick<DeployJob, 'app' | 'environment' | 'sha' | 'tag' | 'id'> & {
    reason?: Reason;
    source?: { before?: string | undefined };
    approved?: true | undefined;
  },
): string =>
  // An approved deploy is sent once per waiting deploy (its id), never dropped as a duplicate of its merge.
  job.approved
    ? `approved/${job.id}`
    : job.reason && KEYED_REASONS.includes(job.reason)
      ? `${job.reason}/${job.id}`
      : // A move back to an already deployed sha (reset, force-push) is a new deploy, not a duplicate of the first.
        `${job.app}/${job.environment}/${job.sha ?? job.tag}${job.source?.before ? `~${job.source.before.slice(0, 12)}` : ''}`;

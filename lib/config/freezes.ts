/**
 * Deploy freeze windows (issue 14, item 1), the shape shared by fjord.yaml's `freezes:` and the manifest
 * repository's `.fjord/freezes.yaml`: a window opens at each run of `cron` (in `timeZone`, an IANA name)
 * and lasts `duration`, or until the next run of `until` (GitLab's freeze_start/freeze_end form). `deny`
 * windows hold deploys while open; with `allow` windows, deploys run only while one is open.
 */
import { Cron } from 'croner';
import * as z from 'zod';
import { durationSchema } from './duration.js';

const cron = z
  .string()
  .min(1)
  .max(100)
  .refine((c) => {
    try {
      new Cron(c, { paused: true });
      return true;
    } catch {
      return false;
    }
  }, 'not a cron expression (minute hour day-of-month month day-of-week)');

/** An IANA time zone name (`Europe/Berlin`, `UTC`) that this runtime knows. */
export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'not an IANA time zone (e.g. Europe/Berlin, UTC)');

const ENV_REF = /^[a-z0-9][a-z0-9_-]{0,62}(?:\/[a-z0-9][a-z0-9_-]{0,62})?$/;

export const freezeSchema = z
  .strictObject({
    /** Shown in notes and statuses. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9 _.:-]{1,64}$/, 'letters, digits, space and _.:- (at most 64)')
      .optional(),
    kind: z.enum(['deny', 'allow']).default('deny'),
    cron,
    duration: durationSchema.refine((ms) => ms > 0, 'must be longer than 0').optional(),
    until: cron.optional(),
    timeZone: timeZoneSchema.default('UTC'),
    /** Environment names (any app's) or `app/env`; none: every environment. */
    environments: z.array(z.string().regex(ENV_REF, 'an environment name or app/env')).optional(),
    /** Rollbacks, heals and converges wait too (default: they pass). */
    blockRollbacks: z.boolean().default(false),
  })
  .refine((f) => (f.duration === undefined) !== (f.until === undefined), 'give exactly one of duration and until');

export type FreezeWindow = z.output<typeof freezeSchema>;

/** `.fjord/freezes.yaml` in the manifest repository: `freezes: [...]`, the same shape as fjord.yaml's. */
export const freezesFileSchema = z.strictObject({ freezes: z.array(freezeSchema).default([]) });

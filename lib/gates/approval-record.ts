/**
 * Deploys waiting for approval, and who approved them (issue 14, item 2), in one file of the manifest
 * repository (`.fjord/approvals.yaml`), as holds are (lib/holds): every run mode sees the same record through
 * its `ManifestStore`, and the file's history says who approved what, when. One entry per environment:
 * the deploy that waits there, its approvals, and the job to send again once they are complete (`replay`):
 * the waiting deploy lives here, not in the queue, so it never holds its environment's queue group for
 * the hours an approval may take. A newer deploy that reaches the gate replaces the entry, so approvals
 * given to the one it replaced do not carry over. The file's mechanics are record-file.ts.
 */
import * as z from 'zod';
import { FjordError } from '../errors.js';
import { deployJobSchema } from '../job.js';
import { shaSchema, tagSchema, textSchema } from '../grammar.js';
import { USERNAME } from '../commands/command-schema.js';
import type { ManifestStore } from '../manifest/store.js';
import { changeRecord, readRecords, recordKey, type RecordFile } from './record-file.js';

export const APPROVALS_FILE = '.fjord/approvals.yaml';

const person = z.strictObject({ username: z.string().regex(USERNAME), id: z.number().int().positive().optional() });
const waitingSchema = z.strictObject({
  /** The waiting deploy's job id: approvals are for it alone. */
  job: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  tag: tagSchema,
  sha: shaSchema.optional(),
  /** The waiting job's `enqueuedAt`: an older job never replaces a newer one. */
  queuedAt: z.iso.datetime({ offset: true }),
  /** Who merged or asked: never an approver of their own deploy. */
  deployer: person,
  since: z.iso.datetime({ offset: true }),
  approvals: z
    .array(person.extend({ at: z.iso.datetime({ offset: true }), level: z.number().int().min(0) }))
    .default([]),
  /** What the approval that completes the count sends (`approved: true`); checked as every queue message is. */
  replay: deployJobSchema,
  /** `/fjord reject`: who refused this deploy, when and why; the gate refuses it from then on. */
  rejected: person.extend({ at: z.iso.datetime({ offset: true }), reason: textSchema.optional() }).optional(),
});
export type Waiting = z.infer<typeof waitingSchema>;
export type Rejection = NonNullable<Waiting['rejected']>;
export type Approver = Waiting['approvals'][number];

/** What a rejected deploy's note, status and every later refusal of it say: who, when, why. */
export const rejectedDetail = (r: Rejection): string =>
  `rejected by ${r.username} at ${r.at}${r.reason ? `: ${r.reason}` : ''}. Nothing was committed`;

/** An approvals file that does not parse: the gate holds (fails closed), nothing is approved by it. */
export class ApprovalsFileInvalid extends FjordError {}

const APPROVALS: RecordFile<Waiting> = {
  file: APPROVALS_FILE,
  header:
    '# Deploys waiting for approval: /fjord approve <env> (or /fjord reject <env>) on the merge request. Written by fjord.\n',
  trailer: 'Fjord-Approvals',
  entry: waitingSchema,
  invalid: ApprovalsFileInvalid,
};

/** The deploy waiting in `app/environment`, if any. */
export const readWaiting = async (
  store: ManifestStore,
  app: string,
  environment: string,
): Promise<Waiting | undefined> => (await readRecords(store, APPROVALS)).all[recordKey(app, environment)];

/**
 * Changes the entry of `app/environment`: `change` gets the current one and returns the next (undefined:
 * remove it), or `null` to leave the file as it is. Returns the entry as written (or as it was).
 */
export const changeWaiting = (
  store: ManifestStore,
  app: string,
  environment: string,
  change: (current: Waiting | undefined) => Waiting | undefined | null,
  options: { subject: string; by: string; attempts?: number },
): Promise<Waiting | undefined> => changeRecord(store, APPROVALS, app, environment, change, options);

/**
 * Deploys waiting for approval, and who approved them (issue 14, item 2), in one file of the manifest
 * repository (`.fjord/approvals.yaml`), as holds are (lib/holds): every run mode sees the same record through
 * its `ManifestStore`, and the file's history says who approved what, when. One entry per environment:
 * the deploy that waits there, its approvals, and the job to send again once they are complete (`replay`):
 * the waiting deploy lives here, not in the queue, so it never holds its environment's queue group for
 * the hours an approval may take. A newer deploy that reaches the gate replaces the entry, so approvals
 * given to the one it replaced do not carry over. Changed with the optimistic lock of every
 * manifest commit; a concurrent change is re-read, never lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import * as z from 'zod';
import { FjordError } from '../errors.js';
import { deployJobSchema } from '../job.js';
import { nameSchema, shaSchema, tagSchema, textSchema } from '../grammar.js';
import { USERNAME } from '../commands/command-schema.js';
import { ManifestConflict, ManifestNotFound } from '../manifest/store-errors.js';
import type { ManifestStore } from '../manifest/store.js';
import { formatTrailers } from '../manifest/trailers.js';

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

const KEY = z
  .string()
  .refine(
    (k) => k.split('/').length === 2 && k.split('/').every((p) => nameSchema.safeParse(p).success),
    'key must be <app>/<environment>',
  );
const fileSchema = z.record(KEY, waitingSchema);

/** An approvals file that does not parse: the gate holds (fails closed), nothing is approved by it. */
export class ApprovalsFileInvalid extends FjordError {}

const HEADER =
  '# Deploys waiting for approval: /fjord approve <env> (or /fjord reject <env>) on the merge request. Written by fjord.\n';

async function readAll(
  store: ManifestStore,
): Promise<{ all: Record<string, Waiting>; lastCommitId: string; exists: boolean }> {
  let file: Awaited<ReturnType<ManifestStore['read']>>;
  try {
    file = await store.read(APPROVALS_FILE);
  } catch (err) {
    if (err instanceof ManifestNotFound) return { all: {}, lastCommitId: '', exists: false };
    throw err;
  }
  let data: unknown;
  try {
    data = parse(file.content) ?? {};
  } catch (err) {
    throw new ApprovalsFileInvalid(`${APPROVALS_FILE}: not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success)
    throw new ApprovalsFileInvalid(
      `${APPROVALS_FILE}: ${parsed.error.issues[0]!.path.join('.') || '(top level)'}: ${parsed.error.issues[0]!.message}`,
    );
  return { all: parsed.data, lastCommitId: file.commitId, exists: true };
}

export const approvalKey = (app: string, environment: string): string => `${app}/${environment}`;

/** The deploy waiting in `app/environment`, if any. */
export const readWaiting = async (
  store: ManifestStore,
  app: string,
  environment: string,
): Promise<Waiting | undefined> => (await readAll(store)).all[approvalKey(app, environment)];

/**
 * Changes the entry of `app/environment`: `change` gets the current one and returns the next (undefined:
 * remove it), or `null` to leave the file as it is. Returns the entry as written (or as it was).
 */
export async function changeWaiting(
  store: ManifestStore,
  app: string,
  environment: string,
  change: (current: Waiting | undefined) => Waiting | undefined | null,
  { subject, by, attempts = 5 }: { subject: string; by: string; attempts?: number },
): Promise<Waiting | undefined> {
  const key = approvalKey(app, environment);
  for (let attempt = 1; ; attempt++) {
    const read = await readAll(store);
    const next = change(read.all[key]);
    if (next === null) return read.all[key];
    if (next) waitingSchema.parse(next);
    const { [key]: _, ...others } = read.all;
    const all = next ? { ...others, [key]: next } : others;
    const message = `${subject}\n\n${formatTrailers([
      ['Fjord-Approvals', key],
      ['Fjord-Requested-By', textSchema.parse(by)],
    ])}\n`;
    try {
      await store.commit({
        file: APPROVALS_FILE,
        content: HEADER + (Object.keys(all).length ? stringify(all) : '{}\n'),
        lastCommitId: read.lastCommitId,
        message,
        create: !read.exists,
      });
      return next;
    } catch (err) {
      if (!(err instanceof ManifestConflict) || attempt >= attempts) throw err;
      await sleep(Math.random() * 100 * attempt);
    }
  }
}

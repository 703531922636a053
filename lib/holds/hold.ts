/**
 * Holds (issue 14, item 3): an environment fjord rolls nothing out to until a person releases it. After an
 * automatic or manual rollback the environment is held, so the next merge does not roll the failure (or
 * what it was rolled back from) out again; `fjord hold` holds on purpose. Holds live in git, in one file of
 * the manifest repository (`.fjord/holds.yaml`), so every run mode (embedded, Lambda, the CLI) sees the
 * same ones through its `ManifestStore`, and the history of that file says who held and released what, when.
 */
import { parse, stringify } from 'yaml';
import * as z from 'zod';
import { FjordError } from '../errors.js';
import { nameSchema, shaSchema, textSchema } from '../grammar.js';
import type { Reason } from '../job.js';

/** Repository-relative path of the holds file. */
export const HOLDS_FILE = '.fjord/holds.yaml';

export const holdSchema = z.strictObject({
  /** When the hold began (ISO 8601). */
  since: z.iso.datetime({ offset: true }),
  /** Who held it: `fjord` for an automatic rollback, else the person (CLI user or MR commenter). */
  by: textSchema,
  reason: textSchema,
  /** The rollback commit that held it, when one did. */
  rollback: shaSchema.optional(),
});
export type Hold = z.infer<typeof holdSchema>;

const KEY = z.string().refine((k) => {
  const [app, env, ...rest] = k.split('/');
  return rest.length === 0 && nameSchema.safeParse(app).success && nameSchema.safeParse(env).success;
}, 'key must be <app>/<environment>');
const holdsSchema = z.record(KEY, holdSchema);
export type Holds = Record<string, Hold>;

/** `<app>/<environment>`, the key of an environment in the holds file. */
export const holdKey = (app: string, environment: string): string => `${app}/${environment}`;

/** Reasons a hold stops before the rollout: everything that is not a person's order at the CLI (or a plan or drift check, which roll nothing out). */
export const HELD_REASONS: readonly Reason[] = ['merge', 'push', 'pipeline', 'promote', 'converge', 'heal'];

/** A holds file that is not a map of `<app>/<env>` to holds: an error naming the file (fail closed, nothing rolls out). */
export class HoldsFileInvalid extends FjordError {}

/** A hold whose `by` or `reason` is not one line of at most 200 characters: nothing is written. */
export class InvalidHold extends FjordError {}

export function parseHolds(text: string): Holds {
  let data: unknown;
  try {
    data = parse(text) ?? {};
  } catch (err) {
    throw new HoldsFileInvalid(`${HOLDS_FILE}: not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const result = holdsSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new HoldsFileInvalid(`${HOLDS_FILE}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return result.data;
}

const HEADER =
  '# Environments fjord rolls nothing out to until released: fjord release <app> <env>, or /fjord release <env> on a merge request.\n';

export function formatHolds(holds: Holds): string {
  return HEADER + (Object.keys(holds).length ? stringify(holds) : '{}\n');
}

/** What a held job tells the MR and the commit status: since when, why, and how to release it. */
export function heldText(hold: Hold, app: string, environment: string): string {
  const rollback = hold.rollback ? `, rollback ${hold.rollback.slice(0, 12)}` : '';
  return `${app}/${environment} is held since ${hold.since} (${hold.reason}${rollback}; by ${hold.by}); release with \`/fjord release ${environment}\` or \`fjord release ${app} ${environment}\``;
}

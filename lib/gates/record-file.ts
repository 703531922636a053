/**
 * One YAML file of the manifest repository holding one entry per environment (`<app>/<environment>`), as
 * the deploys waiting for approval (approval-record.ts) and for a freeze (freeze-waits.ts) are kept: every
 * run mode sees the same record through its `ManifestStore`, and the file's history says who changed what,
 * when. Changed with the optimistic lock of every manifest commit; a concurrent change is re-read, never lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import * as z from 'zod';
import type { FjordError } from '../errors.js';
import { nameSchema, textSchema } from '../grammar.js';
import { ManifestConflict, ManifestNotFound } from '../manifest/store-errors.js';
import type { ManifestStore } from '../manifest/store.js';
import { formatTrailers } from '../manifest/trailers.js';

export interface RecordFile<T> {
  file: string;
  /** The file's first line(s), a comment saying what it is. */
  header: string;
  /** The trailer naming the entry each commit changes (`Fjord-Approvals: api/prod`). */
  trailer: string;
  entry: z.ZodType<T>;
  /** The error of a file that does not parse: its readers fail closed. */
  invalid: new (
    message: string,
  ) => FjordError;
}

const KEY = z
  .string()
  .refine(
    (k) => k.split('/').length === 2 && k.split('/').every((p) => nameSchema.safeParse(p).success),
    'key must be <app>/<environment>',
  );

export const recordKey = (app: string, environment: string): string => `${app}/${environment}`;

/** Every entry, with the commit the file was read at (`''` and `exists: false` when there is no file yet). */
export async function readRecords<T>(
  store: ManifestStore,
  spec: RecordFile<T>,
): Promise<{ all: Record<string, T>; lastCommitId: string; exists: boolean }> {
  let file: Awaited<ReturnType<ManifestStore['read']>>;
  try {
    file = await store.read(spec.file);
  } catch (err) {
    if (err instanceof ManifestNotFound) return { all: {}, lastCommitId: '', exists: false };
    throw err;
  }
  let data: unknown;
  try {
    data = parse(file.content) ?? {};
  } catch (err) {
    throw new spec.invalid(`${spec.file}: not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = z.record(KEY, spec.entry).safeParse(data);
  if (!parsed.success)
    throw new spec.invalid(
      `${spec.file}: ${parsed.error.issues[0]!.path.join('.') || '(top level)'}: ${parsed.error.issues[0]!.message}`,
    );
  return { all: parsed.data as Record<string, T>, lastCommitId: file.commitId, exists: true };
}

/**
 * Changes the entry of `app/environment`: `change` gets the current one and returns the next (undefined:
 * remove it), or `null` to leave the file as it is. Returns the entry as written (or as it was). The
 * commit's subject may name the entry it replaces.
 */
export async function changeRecord<T>(
  store: ManifestStore,
  spec: RecordFile<T>,
  app: string,
  environment: string,
  change: (current: T | undefined) => T | undefined | null,
  {
    subject,
    by,
    attempts = 5,
  }: { subject: string | ((current: T | undefined) => string); by: string; attempts?: number },
): Promise<T | undefined> {
  const key = recordKey(app, environment);
  for (let attempt = 1; ; attempt++) {
    const read = await readRecords(store, spec);
    const next = change(read.all[key]);
    if (next === null) return read.all[key];
    if (next) spec.entry.parse(next);
    const { [key]: _, ...others } = read.all;
    const all = next ? { ...others, [key]: next } : others;
    const message = `${typeof subject === 'string' ? subject : subject(read.all[key])}\n\n${formatTrailers([
      [spec.trailer, key],
      ['Fjord-Requested-By', textSchema.parse(by)],
    ])}\n`;
    try {
      await store.commit({
        file: spec.file,
        content: spec.header + (Object.keys(all).length ? stringify(all) : '{}\n'),
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

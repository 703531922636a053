/**
 * The self-heal ledger (issue 7): a small record per host in fjord's state directory on the host itself
 * (`<ssh.stateDir>/heal/<app>.<environment>`), so every run mode — the embedded process, Lambda, a worker
 * on a box — sees the same attempts without a database. The heal job writes it (before its rollout, and
 * again with the outcome); the reconciler reads it beside the running image and clears it once the host
 * is in sync. Commands are data: argv arrays, every value a positional parameter.
 */
import { parseFields, readStateFile, stateFile, writeStateFile } from '../rollout/state-commands.js';

export interface HealRecord {
  /** The drift this record counts attempts for (`driftIdOf`). */
  drift: string;
  /** Heal attempts started for this drift. */
  attempts: number;
  /** The heal job that wrote it last. */
  job: string;
  /** When it was written last (ISO): the back-off runs from here. */
  at: string;
  /** `running` while the heal job runs (or when it died mid-way), then its outcome status. */
  outcome: string;
}

const FIELDS = ['drift', 'attempts', 'job', 'at', 'outcome'] as const;

export const healRecordFile = (stateDir: string, app: string, environment: string): string =>
  stateFile(stateDir, 'heal', app, environment);

export function formatHealRecord(r: HealRecord): string {
  return FIELDS.map((k) => `${k}=${r[k]}`).join('\n');
}

/** The record, or undefined for an empty or unreadable file (counted as no attempt). */
export function parseHealRecord(text: string): HealRecord | undefined {
  const kv = parseFields(text);
  const get = (key: string) => kv.get(key)?.trim();
  const attempts = Number(get('attempts'));
  const [drift, job, at, outcome] = [get('drift'), get('job'), get('at'), get('outcome')];
  if (!drift || !job || !at || !outcome || !Number.isInteger(attempts) || attempts < 0 || Number.isNaN(Date.parse(at)))
    return undefined;
  return { drift, attempts, job, at, outcome };
}

/** Prints the record; nothing (exit 0) when there is none. */
export const readHealRecordCommand = (stateDir: string, app: string, environment: string): string[] =>
  readStateFile('fjord-heal-read', healRecordFile(stateDir, app, environment));

/** Written beside and renamed over (`writeStateFile`): a reader never sees half a record. */
export const writeHealRecordCommand = (
  stateDir: string,
  app: string,
  environment: string,
  record: HealRecord,
): string[] => writeStateFile('fjord-heal-write', healRecordFile(stateDir, app, environment), formatHealRecord(record));

export const clearHealRecordCommand = (stateDir: string, app: string, environment: string): string[] => [
  'rm',
  '-f',
  healRecordFile(stateDir, app, environment),
];

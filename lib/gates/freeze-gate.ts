/**
 * The freeze gate (issue 14, item 1): a deploy inside a freeze waits until it ends. Windows come from
 * fjord.yaml `freezes:`, the manifest repository's `.fjord/freezes.yaml` (read at the manifest branch head)
 * and, for an app whose source is a GitLab project, that project's Freeze Periods. Rollbacks, heals and
 * converges pass unless a window that holds the environment says `blockRollbacks: true`; a person's
 * `fjord deploy --override-freeze "<reason>"` passes, and the reason goes into the commit's trailer.
 * Windows that cannot be read hold the job a few minutes (checked again then): a freeze fails closed.
 */
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/schema.js';
import { freezesFileSchema, type FreezeWindow } from '../config/freezes.js';
import { ManifestNotFound } from '../manifest/store-errors.js';
import type { DeployJob } from '../job.js';
import type { ManifestStore } from '../manifest/store.js';
import type { Gate, GateDecision } from './gate.js';
import { deployName, freezeWaitReplacing, recordFreezeWait, recordsFreezeWait } from './freeze-waits.js';
import type { FreezePeriodReader } from './gitlab-freeze-periods.js';
import { blockedUntil, formatInZone, type Blocked, type Window } from './windows.js';

export const FREEZES_FILE = '.fjord/freezes.yaml';
export const FREEZE_OVERRIDE_TRAILER = 'Fjord-Freeze-Override';
const UNREADABLE_RETRY_MS = 5 * 60_000;
const ROLLBACK_KINDS = new Set<DeployJob['reason']>(['rollback', 'heal', 'converge']);

export interface FreezeGateOptions {
  config: Config;
  /** Reads a file at the manifest branch head (the manifest store's `read`). */
  readManifest(file: string): Promise<{ content: string }>;
  /** GitLab Freeze Periods of a project; absent without `sources.gitlab.tokenEnv`. */
  freezePeriods?: FreezePeriodReader;
  /** Where the newest waiting deploy of each environment is recorded (freeze-waits.ts); absent: not recorded. */
  store?: ManifestStore;
}

type Sourced = Window & { blockRollbacks: boolean; environments?: string[] | undefined };

const fromConfig =
  (where: string) =>
  (f: FreezeWindow, i: number): Sourced => ({
    label: `${where} freeze ${f.name ? JSON.stringify(f.name) : `#${i + 1}`}`,
    kind: f.kind,
    cron: f.cron,
    ...(f.duration !== undefined ? { durationMs: f.duration } : {}),
    ...(f.until !== undefined ? { until: f.until } : {}),
    timeZone: f.timeZone,
    blockRollbacks: f.blockRollbacks,
    environments: f.environments,
  });

const holds = (job: DeployJob) => (w: Sourced) =>
  !w.environments ||
  w.environments.includes(job.environment) ||
  w.environments.includes(`${job.app}/${job.environment}`);

const RECORD_RETRY_MS = 60_000;

export function freezeGate({ config, readManifest, freezePeriods, store }: FreezeGateOptions): Gate {
  /** Every window that holds the job's environment; `problem` when a source could not be read. */
  async function windowsFor(job: DeployJob): Promise<{ windows: Sourced[]; problem?: string }> {
    const windows = config.freezes.map(fromConfig('fjord.yaml'));
    const problems: string[] = [];
    try {
      const { content } = await readManifest(FREEZES_FILE);
      const parsed = freezesFileSchema.safeParse(parseYaml(content) ?? {});
      if (parsed.success) windows.push(...parsed.data.freezes.map(fromConfig(FREEZES_FILE)));
      else
        problems.push(
          `${FREEZES_FILE} is invalid: ${parsed.error.issues
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')
            .slice(0, 200)}`,
        );
    } catch (err) {
      if (!(err instanceof ManifestNotFound))
        problems.push(`${FREEZES_FILE} could not be read (${(err as Error).message.slice(0, 120)})`);
    }
    const source = config.apps[job.app]?.source;
    if (freezePeriods && source?.provider === 'gitlab') {
      try {
        for (const w of await freezePeriods(source.project))
          windows.push({ ...w, label: `${w.label} of ${source.project}`, blockRollbacks: false });
      } catch (err) {
        problems.push(
          `the GitLab freeze periods of ${source.project} could not be read (${(err as Error).message.slice(0, 120)})`,
        );
      }
    }
    return { windows: windows.filter(holds(job)), ...(problems.length ? { problem: problems.join('; ') } : {}) };
  }

  return {
    name: 'freeze',
    async check({ job, now, overrides }): Promise<GateDecision> {
      const { windows, problem } = await windowsFor(job);
      if (problem) {
        const until = new Date(now.getTime() + UNREADABLE_RETRY_MS);
        return {
          verdict: 'wait',
          until,
          reason: `freeze windows unknown: ${problem}; checking again at ${formatInZone(until, 'UTC')}`,
        };
      }
      const applicable = ROLLBACK_KINDS.has(job.reason) ? windows.filter((w) => w.blockRollbacks) : windows;
      let blocked: Blocked | undefined;
      try {
        blocked = blockedUntil(applicable, now);
      } catch (err) {
        return {
          verdict: 'refuse',
          reason: `freeze windows of ${job.app}/${job.environment}: ${(err as Error).message}`,
        };
      }
      const override = overrides.freeze;
      if (override && blocked) return { verdict: 'pass', trailers: { [FREEZE_OVERRIDE_TRAILER]: override } };
      // Where a freeze can hold this environment, the newest deploy it held is recorded in git: the one that
      // rolls out when it ends, whatever order the queue gives them back in (freeze-waits.ts).
      const replaced =
        store && windows.length && recordsFreezeWait(job) ? await waitRecord(store, job, blocked, now) : undefined;
      if (replaced) return replaced;
      if (!blocked) return { verdict: 'pass' };
      const what = blocked.window.kind === 'allow' ? 'the next deploy window to open' : 'the freeze to end';
      return {
        verdict: 'wait',
        until: blocked.until,
        reason: `waiting for ${what} at ${formatInZone(blocked.until, blocked.window.timeZone)} (${blocked.window.label})`,
      };
    },
  };
}

/**
 * A held job is recorded as its environment's waiting deploy (before its copy goes back to the queue), a
 * released one is checked against the record: superseded when a newer deploy replaced it there. A record
 * that cannot be read or written holds the job a minute (the freeze fails closed).
 */
async function waitRecord(
  store: ManifestStore,
  job: DeployJob,
  blocked: Blocked | undefined,
  now: Date,
): Promise<GateDecision | undefined> {
  let newer: DeployJob | undefined;
  try {
    newer = blocked
      ? await recordFreezeWait(store, job, { until: blocked.until, now })
      : await freezeWaitReplacing(store, job);
  } catch (err) {
    const until = new Date(now.getTime() + RECORD_RETRY_MS);
    return {
      verdict: 'wait',
      until,
      reason: `the deploys waiting for a freeze could not be ${blocked ? 'recorded' : 'read'} (${(err as Error).message.slice(0, 120)}); checking again at ${formatInZone(until, 'UTC')}`,
    };
  }
  return newer
    ? {
        verdict: 'supersede',
        reason: `replaced by a newer deploy of ${job.app}/${job.environment} that waited for the same freeze: ${deployName(newer)}; not run`,
      }
    : undefined;
}

/**
 * The deploy waiting for a freeze to end, one per environment, in `.fjord/freeze-waits.yaml` of the manifest
 * repository (issue 14, item 1: "a newer merge during the freeze → only the newer one rolls out"). On SQS a
 * held job waits as a copy sent again once per round, and when two were both held through a round, queue
 * order alone could let the older out first. So the newest deploy that a freeze holds is recorded in git, as
 * the deploy waiting for approvals is (approval-record.ts; the file's mechanics are record-file.ts): a newer
 * one replaces the entry, an older one never does, and a job the entry no longer names, once it reaches the
 * gate again, ends `superseded`, naming the deploy that replaced it. The record is written before the held
 * copy is sent, so a crash in between loses neither (the message is still in its queue); the Lambda keeps
 * nothing itself, and every run mode decides alike.
 */
import * as z from 'zod';
import { FjordError } from '../errors.js';
import { clampTime } from '../events/clamp-time.js';
import { deployJobSchema, type DeployJob } from '../job.js';
import type { ManifestStore } from '../manifest/store.js';
import { changeRecord, readRecords, recordKey, type RecordFile } from './record-file.js';

export const FREEZE_WAITS_FILE = '.fjord/freeze-waits.yaml';

/** Deploys of a source commit, ordered by its time (lib/worker/superseded.ts): the ones a newer merge replaces. */
const RECORDED = new Set<DeployJob['reason']>(['merge', 'push', 'pipeline', 'promote']);
export const recordsFreezeWait = (job: DeployJob): boolean => RECORDED.has(job.reason);

const entrySchema = z.strictObject({
  /** The waiting deploy, as it was queued (checked as every queue message is). */
  job: deployJobSchema,
  since: z.iso.datetime({ offset: true }),
  until: z.iso.datetime({ offset: true }),
});
type FreezeWait = z.infer<typeof entrySchema>;

/** A freeze-waits file that does not parse: the freeze gate holds the job (fails closed). */
export class FreezeWaitsInvalid extends FjordError {}

const FREEZE_WAITS: RecordFile<FreezeWait> = {
  file: FREEZE_WAITS_FILE,
  header:
    '# The newest deploy of each environment waiting for a freeze to end; older ones are superseded. Written by fjord.\n',
  trailer: 'Fjord-Freeze-Wait',
  entry: entrySchema,
  invalid: FreezeWaitsInvalid,
};

const sameDeploy = (a: DeployJob, b: DeployJob) => a.tag === b.tag && (a.sha ?? '') === (b.sha ?? '');
const sourceTime = (job: DeployJob) =>
  Date.parse(
    (job.source.committedAt && clampTime(job.source.committedAt, Math.min(Date.parse(job.enqueuedAt), Date.now()))) ||
      job.enqueuedAt,
  );

/** Whether `job` comes after `than`: a push from its sha, else a later source commit, else a later receive. */
function follows(job: DeployJob, than: DeployJob): boolean {
  if (job.source.before && job.source.before === than.sha) return true;
  if (than.source.before && than.source.before === job.sha) return false;
  const [a, b] = [sourceTime(job), sourceTime(than)];
  return a !== b ? a > b : Date.parse(job.enqueuedAt) > Date.parse(than.enqueuedAt);
}

/** The recorded deploy that replaces `job` (another deploy of its environment, newer), if any. */
const newerThan = (entry: FreezeWait | undefined, job: DeployJob): DeployJob | undefined =>
  entry && !sameDeploy(entry.job, job) && follows(entry.job, job) ? entry.job : undefined;

/** The newer deploy a freeze held in `job`'s environment, which replaces `job`; undefined when there is none. */
export const freezeWaitReplacing = async (store: ManifestStore, job: DeployJob): Promise<DeployJob | undefined> =>
  newerThan((await readRecords(store, FREEZE_WAITS)).all[recordKey(job.app, job.environment)], job);

/**
 * Records `job` as the deploy waiting in its environment until `until` (one commit; none when it is recorded
 * already). A newer deploy recorded there is kept, and returned: `job` is then replaced.
 */
export async function recordFreezeWait(
  store: ManifestStore,
  job: DeployJob,
  { until, now }: { until: Date; now: Date },
): Promise<DeployJob | undefined> {
  let newer: DeployJob | undefined;
  const where = recordKey(job.app, job.environment);
  await changeRecord(
    store,
    FREEZE_WAITS,
    job.app,
    job.environment,
    (current) => {
      newer = newerThan(current, job);
      if (newer || (current && sameDeploy(current.job, job))) return null;
      return { job, since: now.toISOString(), until: until.toISOString() };
    },
    {
      subject: (current) =>
        `freeze(${where}): ${job.tag} waits until ${until.toISOString()}${current ? `, replacing ${current.job.tag}` : ''}`,
      by: 'fjord (freeze)',
    },
  );
  return newer;
}

/** A deploy in people's words: its tag, MR and commit (`v5 (!12, 4f1e9c2ab5d3)`). */
export function deployName(job: DeployJob): string {
  const mr =
    job.source.mr !== undefined ? `${job.source.provider === 'github' ? '#' : '!'}${job.source.mr}` : undefined;
  const where = [mr, job.sha?.slice(0, 12)].filter(Boolean).join(', ');
  return `${job.tag}${where ? ` (${where})` : ''}`;
}

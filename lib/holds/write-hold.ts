/**
 * Holds and releases one environment: one commit of the holds file, with the optimistic lock of every
 * manifest commit (a concurrent change of another environment's hold is re-read and kept, never lost).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanText } from '../grammar.js';
import { formatTrailers } from '../manifest/trailers.js';
import { ManifestConflict } from '../manifest/store-errors.js';
import type { ManifestStore } from '../manifest/store.js';
import { formatHolds, HOLDS_FILE, holdKey, holdSchema, InvalidHold, type Hold } from './hold.js';
import { readHolds } from './read-hold.js';

export const HOLD_TRAILER = 'Fjord-Hold';
export const RELEASE_TRAILER = 'Fjord-Release';
export const REQUESTED_BY_TRAILER = 'Fjord-Requested-By';

export interface HoldChange {
  /** The commit of the holds file, or undefined when it already said so (nothing committed). */
  commitId: string | undefined;
  /** The hold before the change. */
  previous: Hold | undefined;
}

/**
 * Sets (`hold`) or removes (`undefined`) the hold of `app/environment`. `keep` decides whether an existing
 * hold stays as it is (an automatic rollback does not replace a person's reason); `by` names who releases.
 */
export async function changeHold(
  store: ManifestStore,
  app: string,
  environment: string,
  hold: Hold | undefined,
  {
    keep = () => false,
    by: releasedBy = 'fjord',
    attempts = 5,
  }: { keep?: (existing: Hold) => boolean; by?: string; attempts?: number } = {},
): Promise<HoldChange> {
  const key = holdKey(app, environment);
  // Who and why come from a person (CLI flag, MR comment): held to the text grammar before anything is written.
  const checked = hold && holdSchema.safeParse(hold);
  if (checked && !checked.success)
    throw new InvalidHold(
      `hold of ${key}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  for (let attempt = 1; ; attempt++) {
    const read = await readHolds(store);
    const previous = read.holds[key];
    if (!hold && !previous) return { commitId: undefined, previous };
    if (hold && previous && keep(previous)) return { commitId: undefined, previous };
    const { [key]: _, ...others } = read.holds;
    const next = hold ? { ...others, [key]: hold } : others;
    const subject = hold ? `hold(${key}): ${cleanText(hold.reason).slice(0, 120)}` : `release(${key})`;
    const by = hold?.by ?? releasedBy;
    const message = `${subject}\n\n${formatTrailers([[hold ? HOLD_TRAILER : RELEASE_TRAILER, key], [REQUESTED_BY_TRAILER, by], ...(hold?.rollback ? [['Fjord-Rollback', hold.rollback] as [string, string]] : [])])}\n`;
    try {
      const result = await store.commit({
        file: HOLDS_FILE,
        content: formatHolds(next),
        lastCommitId: read.lastCommitId,
        message,
        create: !read.exists,
      });
      return { commitId: result.commitId, previous };
    } catch (err) {
      if (!(err instanceof ManifestConflict) || attempt >= attempts) throw err;
      await sleep(Math.random() * 100 * attempt);
    }
  }
}

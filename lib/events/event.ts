/**
 * What a webhook means to fjord, whatever sent it: a normalised event for routing. Values are still raw
 * here (not yet checked against lib/grammar.ts): route.ts checks those that end up in a job, and `paths`
 * names the webhook field each came from, so a bad value is answered with that field's path.
 */
import type { z } from 'zod';
import { InvalidEvent } from '../errors.js';
import { formatPath } from '../config/format-issues.js';

export type Provider = 'gitlab' | 'github';

export interface SourceEvent {
  provider: Provider;
  /** Which app trigger this event serves: a merged MR/PR, a push, a successful pipeline; or `plan`: an MR/PR
   *  opened or given new commits, answered with a plan note (issue 7, item 3), never a deploy. */
  trigger: 'merge' | 'push' | 'pipeline' | 'plan' | 'command';
  /** `group/project` or `owner/repo`. */
  project: string;
  /** The branch deployed from (a merge's or an open MR's target branch), or a pushed git tag. */
  ref: { type: 'branch' | 'tag'; name: string };
  sha: string | undefined;
  mr?: number;
  author?: string;
  /** When the deployed commit was merged or made (ISO 8601): orders deploys that arrive out of order. */
  committedAt?: string;
  /** A push's `before` (a pipeline's `before_sha`): the branch head the push moved from. Still raw. */
  before?: string;
  /** `command`: a `/fjord` comment on an MR/PR (issue 14, item 4); its values are still raw here. */
  command?: { text: string; userId: number; username: string; noteId: number; discussionId?: string | undefined };
  /** Webhook field path of each value, for 422 answers. */
  paths: { project: string; ref: string; sha: string; mr?: string; author?: string };
  /** The parsed JSON body, for routes that need more of it (e.g. a future converge route reading commits). */
  payload: unknown;
}

/** An authenticated event fjord does not act on: answered 200 `{"ignored": reason}`, never 4xx. */
export interface Ignored {
  ignored: string;
}

export const isIgnored = (value: object): value is Ignored => 'ignored' in value;

/** zod-parses `payload`, turning the first issue into an InvalidEvent (422) naming the field. */
export function parseShape<T extends z.ZodType>(schema: T, payload: unknown): z.output<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InvalidEvent(formatPath(issue.path), issue.message);
}

/** A value quoted for a message: JSON-escaped (no raw newlines in logs) and cut short. */
export const quote = (value: string): string => {
  const q = JSON.stringify(value);
  return q.length > 80 ? `${q.slice(0, 77)}..."` : q;
};

/** `refs/heads/x` → branch x, `refs/tags/v1` → tag v1, anything else → undefined. */
export function parseRef(ref: string): SourceEvent['ref'] | undefined {
  if (ref.startsWith('refs/heads/')) return { type: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { type: 'tag', name: ref.slice('refs/tags/'.length) };
  return undefined;
}

/** git's "no object" id: the `after` of a deleted branch or tag. */
export const isNullSha = (sha: string): boolean => /^0+$/.test(sha);

/** A webhook timestamp (`2016-08-12 15:26:29 UTC`, ISO 8601 with offset) as ISO 8601 UTC; undefined if unreadable. */
export function isoTime(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

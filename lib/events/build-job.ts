/** A DeployJob for one matched environment of an event, every webhook value held to lib/grammar.ts first. */
import { InvalidEvent } from '../errors.js';
import { BRANCH, cleanText, SHA, TEXT } from '../grammar.js';
import type { DeployJob } from '../job.js';
import { clampTime } from './clamp-time.js';
import { isNullSha, quote, type SourceEvent } from './event.js';
import { imageTagOfRef } from './image-tag-of-ref.js';
import { newJobId } from './job-id.js';
import type { Match } from './match-apps.js';
import { renderTag } from './render-tag.js';
import type { RouteContext } from './route-types.js';

/** The job for one matched environment; every webhook value is held to its grammar (InvalidEvent otherwise). */
export function buildJob(event: SourceEvent, m: Match, ctx: RouteContext): DeployJob {
  const { paths } = event;
  if (event.sha === undefined) throw new InvalidEvent(paths.sha, 'missing: the commit to deploy is unknown');
  if (!SHA.test(event.sha))
    throw new InvalidEvent(paths.sha, `${quote(event.sha)} is not a commit sha (40 or 64 lowercase hex)`);
  // An author's name is data, not an order: it is cleaned (controls, bidi and format characters, line
  // separators gone) and cut to the grammar's 200 characters rather than refused — a merge is not lost to
  // the name its merger chose. What is left must be the grammar's text; a name that cleans to nothing is dropped.
  const cleaned = event.author === undefined ? undefined : [...cleanText(event.author)].slice(0, 200).join('');
  const author = cleaned ? cleaned : undefined;
  if (author !== undefined && !TEXT.test(author))
    throw new InvalidEvent(paths.author ?? 'author', 'not single-line printable text');
  // Ordering fields: a time far in the future is clamped to now; a `before` is kept only when it is a
  // real commit (a new branch's is all zeros), else it is dropped — it only orders, it never runs.
  const committedAt = event.committedAt ? clampTime(event.committedAt, ctx.now()) : undefined;
  const before =
    event.before && SHA.test(event.before) && !isNullSha(event.before) && event.before !== event.sha
      ? event.before
      : undefined;
  let tag: string;
  if (event.ref.type === 'tag') {
    // routeToApps answers tags without an image tag with 200 ignored before a job is built.
    const mapped = imageTagOfRef(event.ref.name);
    if (mapped === undefined) throw new InvalidEvent(paths.ref, `git tag ${quote(event.ref.name)} has no image tag`);
    tag = mapped;
  } else {
    tag = renderTag(m.template, { sha: event.sha, branch: event.ref.name, mr: event.mr });
  }
  const job: DeployJob = {
    v: 1,
    id: (ctx.newId ?? newJobId)(),
    app: m.app,
    environment: m.environment,
    image: m.image,
    tag,
    sha: event.sha,
    reason: event.trigger,
    source: {
      provider: event.provider,
      project: m.project,
      ref: event.ref.name,
      ...(event.mr !== undefined ? { mr: event.mr } : {}),
      ...(author !== undefined ? { author } : {}),
      deliveryId: ctx.deliveryId,
      ...(committedAt ? { committedAt } : {}),
      ...(before ? { before } : {}),
    },
    enqueuedAt: new Date(ctx.now()).toISOString(),
  };
  // Every other field comes from the validated config or was checked above; a tag's name is also the ref,
  // which the job schema holds to the branch grammar. (The fuzz test checks every queued job against
  // deployJobSchema; a full parse here would cost more than the rest of the routing.)
  if (!BRANCH.test(job.source.ref!))
    throw new InvalidEvent(paths.ref, `${quote(job.source.ref!)} is not a valid ref name`);
  return job;
}

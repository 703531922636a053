/**
 * Event → DeployJob[] through the config. Routing is a list of `Route`s whose jobs are put together: today
 * one, `routeToApps`; a push to the manifest repository becoming a `converge` job (issue 4, item 5) is a
 * second Route added to `ROUTES`, reading what it needs from `event.payload`.
 */
import type { Config } from '../config/schema.js';
import { InvalidEvent } from '../errors.js';
import { BRANCH, SHA, TAG, TEXT } from '../grammar.js';
import type { DeployJob } from '../job.js';
import { quote, type Ignored, type SourceEvent } from './event.js';
import { renderTag } from './render-tag.js';
import { newJobId } from './job-id.js';
import { routeManifestPush } from './route-manifest-push.js';

export interface RouteContext {
  config: Config;
  deliveryId: string;
  now: () => number;
  newId?: () => string;
}

export type Routed = { jobs: DeployJob[] } | Ignored;
export type Route = (event: SourceEvent, ctx: RouteContext) => Routed;

/** Every job the event causes, or why it causes none. Throws InvalidEvent (422) for a bad value. */
export function routeEvent(event: SourceEvent, ctx: RouteContext, routes: readonly Route[] = ROUTES): Routed {
  const jobs: DeployJob[] = [];
  const reasons: string[] = [];
  for (const route of routes) {
    const out = route(event, ctx);
    if ('jobs' in out) jobs.push(...out.jobs);
    else if (out.ignored) reasons.push(out.ignored); // '' = this route has nothing to say about the event
  }
  return jobs.length > 0 ? { jobs } : { ignored: reasons.join('; ') };
}

interface Match {
  app: string;
  environment: string;
  template: string;
  image: string;
  project: string;
}

/** Apps whose source is this project, environments whose branch is this branch, trigger as configured. */
export const routeToApps: Route = (event, ctx) => {
  const matches: Match[] = [];
  const reasons: string[] = [];
  const project = event.project.toLowerCase(); // GitLab and GitHub paths are case-insensitive
  for (const [appName, app] of Object.entries(ctx.config.apps)) {
    if (app.source.provider !== event.provider || app.source.project.toLowerCase() !== project) continue;
    const mismatch = triggerMismatch(app.source, event);
    if (mismatch) {
      reasons.push(`app ${appName} ${mismatch}`);
      continue;
    }
    const before = matches.length;
    let promoted = 0;
    for (const [envName, env] of Object.entries(app.environments)) {
      // Environments with promoteFrom get their jobs from a successful rollout upstream, never from a webhook.
      if (env.promoteFrom) {
        promoted++;
        continue;
      }
      if (event.ref.type === 'branch' && (env.branch ?? app.source.branch) !== event.ref.name) continue;
      matches.push({ app: appName, environment: envName, template: app.tag, image: app.image, project: app.source.project });
    }
    if (matches.length === before) {
      reasons.push(
        event.ref.type === 'tag' || promoted === Object.keys(app.environments).length
          ? `app ${appName} has no environment deployed by webhooks (promoteFrom)`
          : `no environment of app ${appName} deploys branch ${quote(event.ref.name)}`,
      );
    }
  }
  if (matches.length === 0) {
    return { ignored: reasons.length > 0 ? reasons.join('; ') : `no app deploys ${event.provider} project ${quote(event.project)}` };
  }
  return { jobs: matches.map((m) => buildJob(event, m, ctx)) };
};

/** The routes every receiver uses: source pushes/merges → deploys; manifest pushes → converge. */
export const ROUTES: readonly Route[] = [routeToApps, routeManifestPush];

function triggerMismatch(source: Config['apps'][string]['source'], event: SourceEvent): string | undefined {
  if (event.ref.type === 'tag') {
    if (!source.tags) return 'does not deploy git tags (source.tags is off)';
    // Tags arrive as tag pushes; an app that waits for CI deploys a tag on its pipeline instead.
    const wanted = source.trigger === 'pipeline' ? 'pipeline' : 'push';
    return event.trigger === wanted ? undefined : `deploys tags on ${wanted}, not on ${event.trigger}`;
  }
  return event.trigger === source.trigger ? undefined : `deploys on ${source.trigger}, not on ${event.trigger}`;
}

function buildJob(event: SourceEvent, m: Match, ctx: RouteContext): DeployJob {
  const { paths } = event;
  if (event.sha === undefined) throw new InvalidEvent(paths.sha, 'missing: the commit to deploy is unknown');
  if (!SHA.test(event.sha)) throw new InvalidEvent(paths.sha, `${quote(event.sha)} is not a commit sha (40 or 64 lowercase hex)`);
  // Names longer than the grammar's 200 characters are cut rather than refused: length is not a danger.
  const author = event.author?.slice(0, 200);
  if (author !== undefined && !TEXT.test(author)) throw new InvalidEvent(paths.author ?? 'author', 'not single-line printable text');
  let tag: string;
  if (event.ref.type === 'tag') {
    if (!TAG.test(event.ref.name)) throw new InvalidEvent(paths.ref, `git tag ${quote(event.ref.name)} is not a valid image tag`);
    tag = event.ref.name;
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
      ...(event.committedAt ? { committedAt: event.committedAt } : {}),
    },
    enqueuedAt: new Date(ctx.now()).toISOString(),
  };
  // Every other field comes from the validated config or was checked above; a tag's name is also the ref,
  // which the job schema holds to the branch grammar. (The fuzz test checks every queued job against
  // deployJobSchema; a full parse here would cost more than the rest of the routing.)
  if (!BRANCH.test(job.source.ref!)) throw new InvalidEvent(paths.ref, `${quote(job.source.ref!)} is not a valid ref name`);
  return job;
}

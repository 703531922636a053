/**
 * Git is the trigger too (issue 4, item 5): a push to the manifest repository's branch that changes an
 * environment's file — a person's `git revert`, a hand-edited tag, a merged write-back MR — becomes a
 * `converge` job for that environment: the worker rolls the fleet to whatever tag the file holds when the
 * job runs, without a new commit. fjord's own commits carry a `Fjord-Job` trailer and are skipped, so a
 * deploy does not roll out twice. The receiver cannot read the file (it is stateless), so a converge job's
 * `tag` only names the manifest commit (`manifest-<sha8>`); the worker resolves the real tag.
 */
import * as z from 'zod';
import { SHA } from '../grammar.js';
import type { DeployJob } from '../job.js';
import { isFjordCommit } from '../manifest/trailers.js';
import { quote, type SourceEvent } from './event.js';
import { newJobId } from './job-id.js';
import type { Route } from './route-types.js';

const commits = z.object({
  commits: z
    .array(
      z.object({
        message: z.string().default(''),
        added: z.array(z.string()).nullish(),
        modified: z.array(z.string()).nullish(),
        removed: z.array(z.string()).nullish(),
      }),
    )
    .default([]),
});

/** Files a push changed, leaving out the commits fjord rolled out itself (a merged fjord MR counts as a person's). */
export function changedByPeople(payload: unknown): { files: Set<string>; own: number; total: number } {
  const parsed = commits.safeParse(payload);
  const list = parsed.success ? parsed.data.commits : [];
  const files = new Set<string>();
  let own = 0;
  for (const c of list) {
    if (isFjordCommit(c.message)) {
      own++;
      continue;
    }
    // A removed file counts too: a managed file's source gone from git is pruned from the hosts.
    for (const f of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) files.add(f);
  }
  return { files, own, total: list.length };
}

export const routeManifestPush: Route = (event: SourceEvent, ctx) => {
  const { manifest, apps } = ctx.config;
  if (event.trigger !== 'push' || !manifest.project || event.project.toLowerCase() !== manifest.project.toLowerCase()) {
    return { ignored: '' };
  }
  if (event.ref.type !== 'branch' || event.ref.name !== manifest.branch)
    return { ignored: `manifest push to ${quote(event.ref.name)}, not ${manifest.branch}` };
  if (!event.sha || !SHA.test(event.sha)) return { ignored: 'manifest push without a commit sha' };
  const { files, own, total } = changedByPeople(event.payload);
  if (total > 0 && own === total) return { ignored: "manifest push of fjord's own commits" };
  const jobs: DeployJob[] = [];
  for (const [appName, app] of Object.entries(apps)) {
    for (const [envName, env] of Object.entries(app.environments)) {
      // The secrets file is desired state too: a secrets-only commit restarts the app on the same image.
      // So are managed files (`files[].source`): a file-only commit converges the fleet on the same image.
      if (
        !files.has(env.manifest.file) &&
        !(env.secrets && files.has(env.secrets.file)) &&
        !env.files.some((f) =>
          f.source.endsWith('/') ? [...files].some((p) => p.startsWith(f.source)) : files.has(f.source),
        )
      )
        continue;
      jobs.push({
        v: 1,
        id: (ctx.newId ?? newJobId)(),
        app: appName,
        environment: envName,
        image: app.image,
        tag: `manifest-${event.sha.slice(0, 8)}`,
        sha: event.sha,
        reason: 'converge',
        source: {
          provider: event.provider,
          project: manifest.project,
          ref: event.ref.name,
          ...(event.author && /^[^\p{Cc}]{1,200}$/u.test(event.author) ? { author: event.author } : {}),
          deliveryId: ctx.deliveryId,
        },
        enqueuedAt: new Date(ctx.now()).toISOString(),
      });
    }
  }
  return jobs.length > 0 ? { jobs } : { ignored: 'manifest push changed no environment file' };
};

/** Which apps and environments an event is for, through the config: shared by the deploy and plan routes. */
import type { Config } from '../config/schema.js';
import { quote, type SourceEvent } from './event.js';

export interface Match {
  app: string;
  environment: string;
  template: string;
  image: string;
  project: string;
}

/**
 * Apps whose source is this project, and their environments deployed by webhooks from this branch (not the
 * promoteFrom ones), in config order; `reasons` says why each app of the project matched nothing.
 * `checkTrigger: false` (plans): any trigger counts, since merging deploys whatever the app waits for.
 */
export function matchApps(
  event: SourceEvent,
  config: Config,
  { checkTrigger = true } = {},
): { matches: Match[]; reasons: string[] } {
  const matches: Match[] = [];
  const reasons: string[] = [];
  const project = event.project.toLowerCase(); // GitLab and GitHub paths are case-insensitive
  for (const [appName, app] of Object.entries(config.apps)) {
    if (app.source.provider !== event.provider || app.source.project.toLowerCase() !== project) continue;
    const mismatch = checkTrigger ? triggerMismatch(app.source, event) : undefined;
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
      matches.push({
        app: appName,
        environment: envName,
        template: app.tag,
        image: app.image,
        project: app.source.project,
      });
    }
    if (matches.length === before) {
      reasons.push(
        event.ref.type === 'tag' || promoted === Object.keys(app.environments).length
          ? `app ${appName} has no environment deployed by webhooks (promoteFrom)`
          : `no environment of app ${appName} deploys branch ${quote(event.ref.name)}`,
      );
    }
  }
  return { matches, reasons };
}

function triggerMismatch(source: Config['apps'][string]['source'], event: SourceEvent): string | undefined {
  if (event.ref.type === 'tag') {
    if (!source.tags) return 'does not deploy git tags (source.tags is off)';
    // Tags arrive as tag pushes; an app that waits for CI deploys a tag on its pipeline instead.
    const wanted = source.trigger === 'pipeline' ? 'pipeline' : 'push';
    return event.trigger === wanted ? undefined : `deploys tags on ${wanted}, not on ${event.trigger}`;
  }
  return event.trigger === source.trigger ? undefined : `deploys on ${source.trigger}, not on ${event.trigger}`;
}

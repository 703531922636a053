/**
 * Which environments merging into `branch` deploys to: the app's environments deployed from that branch by
 * webhooks, then every environment promoted from those (`promoteFrom`), transitively, in config order —
 * the same ones lib/events/route.ts and lib/worker/promote.ts would reach after the merge.
 */
import type { AppConfig } from '../config/schema.js';

export interface PlannedEnvironment {
  environment: string;
  /** `direct`: deployed by the merge itself; `auto` / `mr`: promoted from `from` after its rollout succeeds. */
  via: 'direct' | 'auto' | 'mr';
  from?: string;
}

export function planEnvironments(app: AppConfig, branch: string): PlannedEnvironment[] {
  const entries = Object.entries(app.environments);
  const out: PlannedEnvironment[] = entries
    .filter(([, env]) => !env.promoteFrom && (env.branch ?? app.source.branch) === branch)
    .map(([environment]) => ({ environment, via: 'direct' }));
  // Breadth first over promoteFrom edges (fjord.yaml refuses promotion loops; each environment once regardless).
  for (let i = 0; i < out.length; i++) {
    const upstream = out[i]!.environment;
    for (const [environment, env] of entries) {
      if (env.promoteFrom !== upstream || out.some((p) => p.environment === environment)) continue;
      out.push({ environment, via: env.promote, from: upstream });
    }
  }
  return out;
}

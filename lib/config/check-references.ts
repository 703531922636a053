/** Cross-references that a schema cannot see: hosts, promotion chains, sources, manifest targets. */
import type { Config } from './schema.js';

export function checkReferences(config: Config): string[] {
  const problems: string[] = [];
  const targets = new Map<string, string>();
  if (config.manifest.backend === 'gitlab' && !config.manifest.project) {
    problems.push('manifest.project: required when manifest.backend is gitlab');
  }
  if (config.manifest.backend === 'git' && !config.manifest.repository) {
    problems.push('manifest.repository: required when manifest.backend is git');
  }
  const hookSecretOf = new Map<string, { app: string; env: string | undefined }>();
  for (const [appName, app] of Object.entries(config.apps)) {
    const at = `apps.${appName}`;
    // One project has one webhook, with one secret: apps sharing a project must name the same one.
    const project = `${app.source.provider}:${app.source.project.toLowerCase()}`;
    const first = hookSecretOf.get(project);
    if (!first) hookSecretOf.set(project, { app: appName, env: app.source.webhookSecretEnv });
    else if (first.env !== app.source.webhookSecretEnv) {
      problems.push(
        `${at}.source.webhookSecretEnv: app ${first.app} has the same source project with ${first.env ? `webhookSecretEnv ${first.env}` : 'the shared secret'}; one project's webhook has one secret`,
      );
    }
    if (!config.sources[app.source.provider]) {
      problems.push(`${at}.source.provider: no sources.${app.source.provider} is configured`);
    }
    for (const [envName, env] of Object.entries(app.environments)) {
      const envAt = `${at}.environments.${envName}`;
      env.hosts.forEach((h, i) => {
        if (!config.hosts[h]) problems.push(`${envAt}.hosts[${i}]: unknown host "${h}"`);
      });
      if (env.promoteFrom !== undefined) {
        if (env.promoteFrom === envName)
          problems.push(`${envAt}.promoteFrom: an environment cannot promote from itself`);
        else if (!app.environments[env.promoteFrom]) {
          problems.push(`${envAt}.promoteFrom: unknown environment "${env.promoteFrom}" in app ${appName}`);
        } else if (promotionCycle(app.environments, envName)) {
          problems.push(`${envAt}.promoteFrom: promotion chain loops back to ${envName}`);
        }
      }
      if (env.soak) {
        if (env.soak.after === envName) problems.push(`${envAt}.soak.after: an environment cannot soak after itself`);
        else if (!app.environments[env.soak.after])
          problems.push(`${envAt}.soak.after: unknown environment "${env.soak.after}" in app ${appName}`);
        // The soak gate holds promotions only (lib/gates/soak-gate.ts): without promoteFrom it would never act.
        if (env.promoteFrom === undefined)
          problems.push(`${envAt}.soak: needs promoteFrom (a soak holds promotions only)`);
      }
      if (env.protect?.project === 'manifest' && (config.manifest.backend !== 'gitlab' || !config.manifest.project)) {
        problems.push(
          `${envAt}.protect.project: manifest needs manifest.backend gitlab and manifest.project (its members are read through the GitLab API)`,
        );
      }
      const key = `${env.manifest.file}#${env.manifest.path ?? env.manifest.image ?? env.manifest.container ?? env.manifest.service ?? ''}`;
      const other = targets.get(key);
      if (other) problems.push(`${envAt}.manifest: same file and target as ${other}`);
      targets.set(key, envAt);
      env.files.forEach((f, i) => {
        f.hosts?.forEach((h, j) => {
          if (!env.hosts.includes(h))
            problems.push(`${envAt}.files[${i}].hosts[${j}]: "${h}" is not one of this environment's hosts`);
        });
        if (env.files.findIndex((g) => g.target === f.target) !== i)
          problems.push(`${envAt}.files[${i}].target: ${f.target} is listed twice`);
      });
      const r = env.rollout;
      if (r.strategy === 'compose' && !r.compose)
        problems.push(`${envAt}.rollout.compose: required for strategy compose`);
      if (r.strategy === 'command' && !r.command)
        problems.push(`${envAt}.rollout.command: required for strategy command`);
    }
  }
  return problems;
}

function promotionCycle(envs: Config['apps'][string]['environments'], start: string): boolean {
  const seen = new Set<string>();
  let at: string | undefined = start;
  while (at !== undefined) {
    if (seen.has(at)) return true;
    seen.add(at);
    at = envs[at]?.promoteFrom;
  }
  return false;
}

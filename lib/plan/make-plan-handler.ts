/**
 * Wires a `plan` job's ports from fjord.yaml, as make-handler.ts does for deploys: the same manifest store,
 * a fleet per plan, the registry with the configured credentials (one HEAD, a short timeout: a plan never
 * waits for CI), and GitLab notes / GitHub PR comments when `sources.gitlab.tokenEnv` /
 * `sources.github.tokenEnv` names a set variable.
 */
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { secretList, secretValue } from '../config/secrets.js';
import type { ManifestStore } from '../manifest/store.js';
import { githubClientFromConfig } from '../notify/github-client.js';
import { GithubPlanNotes } from '../notify/github-plan-note.js';
import { GitlabPlanNotes } from '../notify/gitlab-plan-note.js';
import { imageExists, registryCredentials, TokenCache } from '../registry/index.js';
import { fleetForConfig } from '../reconcile/fleet-for.js';
import type { JobHandler } from '../worker/worker-loop.js';
import { runPlan, type PlanPorts } from './run-plan.js';

export interface PlanHandlerOptions {
  config: Config;
  configPath: string;
  env: NodeJS.ProcessEnv;
  store: ManifestStore;
  /** Tests hand in their own. */
  notes?: PlanPorts['notes'];
}

export function makePlanHandler({ config, configPath, env, store, notes }: PlanHandlerOptions): JobHandler {
  const credentials = registryCredentials(config.registries, env);
  const tokens = new TokenCache();
  const planNotes = notes ?? planNotesFromConfig(config, env);
  const ports = {
    config,
    store,
    // The key is read per plan: a missing one makes this plan's hosts unreachable, not the worker crash.
    fleetFor: fleetForConfig(config, env, dirname(configPath)),
    ageIdentities: secretList(env, config.secrets.identityEnv),
    imageExists: (ref: { image: string; tag: string }) => imageExists(ref, { credentials, tokens, timeoutMs: 5000 }),
    ...(planNotes ? { notes: planNotes } : {}),
  };
  return (job, ctx) => runPlan(job, ctx, ports);
}

function planNotesFromConfig(config: Config, env: NodeJS.ProcessEnv): PlanPorts['notes'] {
  const { gitlab, github } = config.sources;
  const gitlabToken = gitlab?.tokenEnv ? secretValue(env, gitlab.tokenEnv) : undefined;
  const octokit = github ? githubClientFromConfig(config, env) : undefined;
  return {
    ...(gitlab && gitlabToken ? { gitlab: new GitlabPlanNotes({ url: gitlab.url, token: gitlabToken }) } : {}),
    ...(octokit ? { github: new GithubPlanNotes(octokit) } : {}),
  };
}

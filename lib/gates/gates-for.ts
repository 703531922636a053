/**
 * The gates of a worker, from fjord.yaml: the freeze gate (fjord.yaml windows, the manifest repository's
 * `.fjord/freezes.yaml`, and GitLab Freeze Periods when `sources.gitlab.tokenEnv` names a set variable),
 * the protected-environment gate (access levels and approvals) and the staging soak. Built once per
 * worker, so the GitLab answers are cached across its jobs.
 */
import type { Config } from '../config/schema.js';
import type { DeployJob } from '../job.js';
import { secretValue } from '../config/secrets.js';
import type { ManifestStore } from '../manifest/store.js';
import { accessFromConfig } from './access-from-config.js';
import { freezeGate } from './freeze-gate.js';
import type { Gate } from './gate.js';
import { gitlabFreezePeriods } from './gitlab-freeze-periods.js';
import { protectGate, type AccessFor } from './protect-gate.js';
import { soakGate } from './soak-gate.js';

export function gatesFor(
  config: Config,
  {
    store,
    env,
    now,
    accessFor = accessFromConfig(config, env),
    onReplaced,
  }: {
    store: ManifestStore;
    env: Record<string, string | undefined>;
    now: () => Date;
    accessFor?: AccessFor;
    /** A deploy waiting for approvals that a newer one replaced: told as superseded (its note and status). */
    onReplaced?: (replaced: DeployJob, detail: string) => Promise<void>;
  },
): Gate[] {
  const gitlab = config.sources.gitlab;
  const token = gitlab?.tokenEnv ? secretValue(env, gitlab.tokenEnv) : undefined;
  const freezePeriods = gitlab && token ? gitlabFreezePeriods({ url: gitlab.url, token, now }) : undefined;
  return [
    freezeGate({
      config,
      store,
      readManifest: (file) => store.read(file),
      ...(freezePeriods ? { freezePeriods } : {}),
    }),
    soakGate({ config, store }),
    // Also while a freeze holds the deploy: approvals can be given before the freeze ends.
    protectGate({ config, store, accessFor, ...(onReplaced ? { onReplaced } : {}) }),
  ];
}

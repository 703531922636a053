/**
 * The drift report (issue 7): for every app × environment, the tag the manifest asks for against what each
 * of its hosts actually runs. Read-only: nothing on a host or in the manifest changes. One fleet (one SSH
 * session per host) serves the whole report; hosts of an environment are read in parallel
 * (check-environment.ts, which the reconcile job uses for its one environment).
 */
import type { Config } from '../config/schema.js';
import type { ManifestStore } from '../manifest/store.js';
import type { Secret } from '../secret.js';
import type { Fleet } from '../ssh/fleet.js';
import { checkEnvironmentDrift } from './check-environment.js';
import type { EnvironmentDrift } from './drift-types.js';

export interface DriftReport {
  /** True when every host of every environment is in sync and every manifest was read. */
  inSync: boolean;
  checkedAt: string;
  environments: EnvironmentDrift[];
}

export interface DriftPorts {
  config: Config;
  store: ManifestStore;
  /** A fleet over the named hosts; `checkDrift` closes it when done. */
  fleetFor(hosts: readonly string[]): Fleet;
  now?: () => Date;
  /** The worker's age identities (`secrets.identityEnv`): env files are compared with git's secrets. */
  ageIdentities?: readonly Secret[];
}

/** Every app × environment, one after the other over one fleet (closed when done). */
export async function checkDrift({
  config,
  store,
  fleetFor,
  now = () => new Date(),
  ageIdentities,
}: DriftPorts): Promise<DriftReport> {
  const checkedAt = now();
  const allHosts = [
    ...new Set(Object.values(config.apps).flatMap((a) => Object.values(a.environments).flatMap((e) => e.hosts))),
  ];
  const fleet = fleetFor(allHosts);
  const environments: EnvironmentDrift[] = [];
  try {
    for (const [app, appConfig] of Object.entries(config.apps)) {
      for (const environment of Object.keys(appConfig.environments)) {
        environments.push(
          await checkEnvironmentDrift({
            config,
            store,
            fleet,
            app,
            environment,
            now: checkedAt,
            ...(ageIdentities ? { ageIdentities } : {}),
          }),
        );
      }
    }
  } finally {
    await fleet.close();
  }
  return { inSync: environments.every(isInSync), checkedAt: checkedAt.toISOString(), environments };
}

/** Every host in sync and the manifest read. */
export const isInSync = (e: EnvironmentDrift): boolean => !e.error && e.hosts.every((h) => h.status === 'in-sync');

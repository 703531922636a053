/**
 * The drift report (issue 7): for every app × environment, the tag the manifest asks for against what each
 * of its hosts actually runs. Read-only: nothing on a host or in the manifest changes. One fleet (one SSH
 * session per host) serves the whole report; hosts of an environment are read in parallel.
 */
import type { Config } from '../config/schema.js';
import { FjordError } from '../errors.js';
import { readTag } from '../manifest/index.js';
import type { ManifestStore } from '../manifest/store.js';
import { readRunning } from '../rollout/read-running.js';
import type { Fleet } from '../ssh/fleet.js';
import { classifyHost, type HostDrift } from './classify-host.js';

export interface EnvironmentDrift {
  app: string;
  environment: string;
  file: string;
  /** The manifest's tag (absent: it sets none, or it could not be read: see `error`). */
  desiredTag?: string;
  hosts: HostDrift[];
  /** The manifest could not be read or parsed: no host was checked. */
  error?: string;
}

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
}

export async function checkDrift({ config, store, fleetFor, now = () => new Date() }: DriftPorts): Promise<DriftReport> {
  const checkedAt = now().toISOString();
  const allHosts = [...new Set(Object.values(config.apps).flatMap((a) => Object.values(a.environments).flatMap((e) => e.hosts)))];
  const fleet = fleetFor(allHosts);
  const environments: EnvironmentDrift[] = [];
  try {
    for (const [app, appConfig] of Object.entries(config.apps)) {
      for (const [environment, env] of Object.entries(appConfig.environments)) {
        const entry: EnvironmentDrift = { app, environment, file: env.manifest.file, hosts: [] };
        environments.push(entry);
        let desiredTag: string | undefined;
        try {
          desiredTag = readTag((await store.read(env.manifest.file)).content, env.manifest);
        } catch (err) {
          if (!(err instanceof FjordError)) throw err;
          entry.error = `${err.name}: ${err.message}`;
          continue;
        }
        if (desiredTag !== undefined) entry.desiredTag = desiredTag;
        entry.hosts = await Promise.all(
          env.hosts.map(async (host) => {
            const reading = { host, image: appConfig.image, desiredTag };
            try {
              const running = await readRunning(fleet, host, { app, environment, env, stateDir: config.ssh.stateDir });
              return classifyHost({ ...reading, ...(running ? { running } : {}) });
            } catch (err) {
              // Connection and command failures are the host's state; anything else is a bug: let it throw.
              if (!(err instanceof FjordError)) throw err;
              return classifyHost({ ...reading, error: err });
            }
          }),
        );
      }
    }
  } finally {
    await fleet.close();
  }
  const inSync = environments.every((e) => !e.error && e.hosts.every((h) => h.status === 'in-sync'));
  return { inSync, checkedAt, environments };
}

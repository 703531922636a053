/**
 * The managed files of one environment as each host should hold them (issue 13): read from the manifest
 * repository at the branch head through the `ManifestStore`, rendered per host with the host's values
 * from fjord.yaml. Read before anything changes, so a missing source fails the job up front.
 */
import type { Config, EnvironmentConfig } from '../config/schema.js';
import { desiredFiles, type DesiredFile } from '../files/desired-files.js';
import { ManifestNotFound } from '../manifest/store-errors.js';
import type { ManifestStore } from '../manifest/store.js';

export async function loadDesiredFiles(config: Config, store: ManifestStore, app: string, environment: string, env: EnvironmentConfig): Promise<Map<string, DesiredFile[]> | undefined> {
  if (!env.files.length) return undefined;
  return await desiredFiles({
    app,
    environment,
    files: env.files,
    stateDir: config.ssh.stateDir,
    hosts: env.hosts.map((name) => ({ name, address: config.hosts[name]?.address ?? '', labels: config.hosts[name]?.labels ?? {} })),
    read: (source) => store.read(source).then((f) => f.content, (err: unknown) => {
      if (err instanceof ManifestNotFound) return undefined;
      throw err;
    }),
  });
}

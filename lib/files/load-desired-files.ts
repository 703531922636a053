/**
 * The managed files of one environment as each host should hold them (issue 13): read from the manifest
 * repository at the branch head through the `ManifestStore`, rendered per host with the host's values
 * from fjord.yaml. The worker reads them before anything changes (a missing source fails the job up
 * front); the drift check reads the same.
 */
import { ManifestNotFound } from '../manifest/store-errors.js';
import type { ManifestStore } from '../manifest/store.js';
import { desiredFiles, type DesiredFile } from './desired-files.js';
import type { ManagedFile } from './file-schema.js';

/** The parts of fjord.yaml this needs (structural: lib/config imports this folder's schema). */
export interface FilesConfig {
  ssh: { stateDir: string };
  hosts: Record<string, { address: string; labels: Record<string, string> }>;
}

export async function loadDesiredFiles(
  config: FilesConfig,
  store: Pick<ManifestStore, 'read' | 'list'>,
  app: string,
  environment: string,
  env: { hosts: readonly string[]; files: readonly ManagedFile[] },
): Promise<Map<string, DesiredFile[]> | undefined> {
  if (!env.files.length) return undefined;
  return await desiredFiles({
    app,
    environment,
    files: env.files,
    stateDir: config.ssh.stateDir,
    hosts: env.hosts.map((name) => ({
      name,
      address: config.hosts[name]?.address ?? '',
      labels: config.hosts[name]?.labels ?? {},
    })),
    ...(store.list ? { list: store.list.bind(store) } : {}),
    read: (source) =>
      store.read(source).then(
        (f) => f.content,
        (err: unknown) => {
          if (err instanceof ManifestNotFound) return undefined;
          throw err;
        },
      ),
  });
}

/**
 * Wires the deploy pipeline's ports from fjord.yaml: the manifest store of `manifest.backend`, and the
 * registry check with the credentials of `registries`. Every run mode (embedded, Lambda, `fjord worker`,
 * the CLI's deploy and rollback) builds its handler here, so they differ only in their queue.
 */
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { createManifestStore } from '../manifest/create-store.js';
import type { ManifestStore } from '../manifest/store.js';
import { registryCredentials, TokenCache, waitForImage } from '../registry/index.js';
import { deploy, type DeployPorts } from './deploy.js';
import type { JobHandler } from './worker-loop.js';

export interface HandlerOptions {
  config: Config;
  /** Path of fjord.yaml: relative repository paths resolve against its directory. */
  configPath: string;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Tests and the CLI may hand in their own store. */
  store?: ManifestStore;
}

export function makeDeployPorts({ config, configPath, dataDir, env = process.env, store }: HandlerOptions): DeployPorts {
  const credentials = registryCredentials(config.registries, env);
  const tokens = new TokenCache();
  return {
    config,
    store: store ?? createManifestStore(config, { env, dataDir: join(dataDir, 'manifests'), baseDir: dirname(configPath) }),
    waitForImage: (ref, { deadlineMs, heartbeat }) =>
      waitForImage(ref, { deadlineMs, credentials, tokens, heartbeat: ({ delayMs }) => heartbeat().then(() => delayMs) }),
  };
}

export function makeDeployHandler(options: HandlerOptions): JobHandler {
  const ports = makeDeployPorts(options);
  return (job, ctx) => deploy(job, ctx, ports);
}

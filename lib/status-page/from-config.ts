/**
 * The status page of the embedded mode, wired from fjord.yaml: `checkDrift` over the configured fleet and
 * the manifest history, through a store of its own (own cache clone: the git backend wants one data dir
 * per user of it), behind the short cache; the token from `statusPage.tokenEnv`.
 */
import { dirname, join } from 'node:path';
import type { Handler } from 'hono';
import type { Config } from '../config/schema.js';
import { secretValue } from '../config/secrets.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { createManifestStore } from '../manifest/create-store.js';
import type { ReceiverEnv } from '../receiver/env.js';
import { checkDrift } from '../reconcile/drift.js';
import { fleetForConfig } from '../reconcile/fleet-for.js';
import { cachedStatusSource } from './cached-source.js';
import { recentDeploys } from './recent-deploys.js';
import { statusRoute } from './status-route.js';

export interface StatusPageContext {
  config: Config;
  configPath: string;
  env: NodeJS.ProcessEnv;
  dataDir: string;
  logger: Logger;
  ttlMs?: number;
}

/** The `GET /` handler, or undefined when `statusPage.enabled` is false. */
export function statusPageFromConfig({ config, configPath, env, dataDir, logger, ttlMs }: StatusPageContext): Handler<ReceiverEnv> | undefined {
  if (!config.statusPage.enabled) return undefined;
  const { tokenEnv } = config.statusPage;
  const token = secretValue(env, tokenEnv);
  // Fail closed: a configured but unset token must not leave the page open.
  if (tokenEnv && !token) throw new ConfigError([`statusPage.tokenEnv: environment variable ${tokenEnv} is not set`]);
  const baseDir = dirname(configPath);
  const store = createManifestStore(config, { env, dataDir: join(dataDir, 'status', 'manifests'), baseDir });
  const source = cachedStatusSource({
    check: () => checkDrift({ config, store, fleetFor: fleetForConfig(config, env, baseDir) }),
    deploys: () => recentDeploys(config, store),
    ...(ttlMs !== undefined ? { ttlMs } : {}),
  });
  return statusRoute({ source, logger, ...(token ? { token } : {}) });
}

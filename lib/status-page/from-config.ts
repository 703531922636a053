/**
 * The status page of the embedded mode, wired from fjord.yaml: `checkDrift` over the configured fleet and
 * the manifest history, through a store of its own (own cache clone: the git backend wants one data dir
 * per user of it), behind the short cache, internal addresses hidden; who may read it from
 * `statusPage.tokenEnv` and the address fjord listens on (exposure.ts).
 */
import { dirname, join } from 'node:path';
import type { Handler } from 'hono';
import type { Config } from '../config/schema.js';
import { MIN_SECRET_LENGTH, secretList, secretValue } from '../config/secrets.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { createManifestStore } from '../manifest/create-store.js';
import type { ReceiverEnv } from '../receiver/env.js';
import { checkDrift } from '../reconcile/drift.js';
import { fleetForConfig } from '../reconcile/fleet-for.js';
import { cachedStatusSource } from './cached-source.js';
import { exposureNote, statusPageExposure } from './exposure.js';
import { hideViewAddresses } from './hide-view-addresses.js';
import { readHolds } from '../holds/read-hold.js';
import { recentDeploys } from './recent-deploys.js';
import { lockedRoute, statusRoute } from './status-route.js';

export interface StatusPageContext {
  config: Config;
  configPath: string;
  env: NodeJS.ProcessEnv;
  dataDir: string;
  logger: Logger;
  /** The address the receiver listens on: beyond loopback, the page needs a token. */
  hostname: string;
  ttlMs?: number;
}

/** The `GET /` handler, or undefined when `statusPage.enabled` is false. */
export function statusPageFromConfig({
  config,
  configPath,
  env,
  dataDir,
  logger,
  hostname,
  ttlMs,
}: StatusPageContext): Handler<ReceiverEnv> | undefined {
  const exposure = statusPageExposure(config, hostname);
  if (exposure === 'off') return undefined;
  const { tokenEnv } = config.statusPage;
  const token = secretValue(env, tokenEnv);
  // Fail closed: a configured but unset token must not leave the page open.
  if (tokenEnv && !token) throw new ConfigError([`statusPage.tokenEnv: environment variable ${tokenEnv} is not set`]);
  if (token && token.reveal().length < MIN_SECRET_LENGTH) {
    throw new ConfigError([
      `statusPage.tokenEnv: ${tokenEnv} holds a token shorter than ${MIN_SECRET_LENGTH} characters; use a longer random value (e.g. openssl rand -hex 32)`,
    ]);
  }
  const note = exposureNote(exposure, hostname);
  if (exposure === 'locked') {
    logger.warn(note);
    return lockedRoute(logger);
  }
  logger.info(note);
  const baseDir = dirname(configPath);
  const store = createManifestStore(config, { env, dataDir: join(dataDir, 'status', 'manifests'), baseDir });
  const source = cachedStatusSource({
    check: () =>
      checkDrift({
        config,
        store,
        fleetFor: fleetForConfig(config, env, baseDir),
        ageIdentities: secretList(env, config.secrets.identityEnv),
      }),
    deploys: () => recentDeploys(config, store),
    holds: async () => (await readHolds(store)).holds,
    ...(ttlMs !== undefined ? { ttlMs } : {}),
  });
  return statusRoute({
    source: async () => hideViewAddresses(await source(), config.hosts),
    logger,
    ...(token ? { token } : {}),
  });
}

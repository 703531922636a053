/**
 * The `fleetFor` port of `checkDrift` from fjord.yaml: one fleet over the named hosts with the configured
 * SSH key. No hosts at all (manifest-only set-ups): no SSH key is needed, so none is read.
 */
import type { Config } from '../config/schema.js';
import { openFleet, type Fleet } from '../ssh/fleet.js';
import { sshAuthFromConfig, sshHostsFromConfig, sshOptionsFromConfig } from '../ssh/from-config.js';

const noFleet: Fleet = {
  hosts: [],
  session: (name) => Promise.reject(new Error(`no host ${name}`)),
  close: async () => {},
};

/** `baseDir`: directory of fjord.yaml (a relative `ssh.privateKeyFile` resolves against it). */
export function fleetForConfig(
  config: Config,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): (hosts: readonly string[]) => Fleet {
  return (hosts) =>
    hosts.length === 0
      ? noFleet
      : openFleet(
          sshHostsFromConfig(config, hosts),
          sshAuthFromConfig(config.ssh, env, baseDir),
          sshOptionsFromConfig(config.ssh),
        );
}

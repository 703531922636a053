/** fjord.yaml's `ssh` and `hosts` sections as runner inputs: credentials read from env or file once. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { Secret } from '../secret.js';
import { UnknownHost } from './errors.js';
import type { SshAuth, SshHost, SshOptions } from './types.js';

/** Private key (env var, else file), passphrase and agent socket, as `ssh.*` in fjord.yaml names them. */
export function sshAuthFromConfig(
  ssh: Config['ssh'],
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): SshAuth {
  const auth: SshAuth = {};
  let key = ssh.privateKeyEnv ? env[ssh.privateKeyEnv] : undefined;
  // CI variables often hold the key with its newlines written as `\n`.
  if (key && !key.includes('\n') && key.includes('\\n')) key = key.replaceAll('\\n', '\n');
  if (!key && ssh.privateKeyFile) {
    const path = resolve(cwd, ssh.privateKeyFile.replace(/^~(?=\/)/, homedir()));
    try {
      key = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([
        `ssh.privateKeyFile: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      ]);
    }
  }
  if (key) auth.privateKey = new Secret(key);
  const passphrase = ssh.passphraseEnv ? env[ssh.passphraseEnv] : undefined;
  if (passphrase) auth.passphrase = new Secret(passphrase);
  if (ssh.agent && env.SSH_AUTH_SOCK) auth.agent = env.SSH_AUTH_SOCK;
  return auth;
}

export function sshOptionsFromConfig(ssh: Config['ssh']): SshOptions {
  return { connectTimeoutMs: ssh.connectTimeout, commandTimeoutMs: ssh.commandTimeout };
}

/** The named hosts (all when `names` is omitted), with the fleet-wide user where a host sets none. */
export function sshHostsFromConfig(config: Config, names: readonly string[] = Object.keys(config.hosts)): SshHost[] {
  return names.map((name) => {
    const h = config.hosts[name];
    if (!h) throw new UnknownHost(name);
    return { name, address: h.address, port: h.port, user: h.user ?? config.ssh.user, hostKey: h.hostKey };
  });
}

/**
 * Registry credentials: `registries[]` in fjord.yaml names environment variables; their values are read once
 * here and wrapped in `Secret`, unwrapped only when an Authorization header is built.
 */
import { ConfigError } from '../errors.js';
import type { Config } from '../config/schema.js';
import { Secret } from '../secret.js';
import { canonicalRegistry } from './reference.js';

export interface RegistryCredential {
  /** Canonical registry host (`docker.io` for Docker Hub). */
  host: string;
  /** Plain HTTP instead of HTTPS. */
  insecure: boolean;
  /** Both set, or neither (anonymous). */
  basic?: { username: Secret; password: Secret };
}

type RegistryConfig = Config['registries'][number];

/** Reads each registry's credentials from `env`; a named but unset variable is a ConfigError (not a silent anonymous pull). */
export function registryCredentials(
  registries: RegistryConfig[],
  env: NodeJS.ProcessEnv = process.env,
): RegistryCredential[] {
  const issues: string[] = [];
  const out = registries.map((r, i): RegistryCredential => {
    const read = (key: 'usernameEnv' | 'passwordEnv'): string | undefined => {
      const name = r[key];
      if (!name) return undefined;
      if (!env[name]) issues.push(`registries[${i}].${key}: environment variable ${name} is not set`);
      return env[name] || undefined;
    };
    const username = read('usernameEnv');
    const password = read('passwordEnv');
    if (Boolean(r.usernameEnv) !== Boolean(r.passwordEnv))
      issues.push(`registries[${i}]: set both usernameEnv and passwordEnv, or neither`);
    const basic = username && password ? { username: new Secret(username), password: new Secret(password) } : undefined;
    return { host: canonicalRegistry(r.host), insecure: r.insecure, ...(basic && { basic }) };
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** The credential configured for `registry` (already canonical), if any. */
export function credentialFor(
  registry: string,
  credentials: readonly RegistryCredential[],
): RegistryCredential | undefined {
  return credentials.find((c) => c.host === registry);
}

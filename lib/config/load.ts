/**
 * Reads fjord.yaml once: `FJORD_CONFIG`, else `./fjord.yaml`, else `examples/fjord.yaml`. Every problem,
 * from YAML syntax to a dangling host reference, comes back as one ConfigError naming each path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { parseConfig } from './parse.js';
import type { Config } from './schema.js';

export { parseConfig };

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Which file `loadConfig` would read, in order of precedence. */
export function resolveConfigPath({
  file,
  env = process.env,
  cwd = process.cwd(),
}: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
} = {}): string {
  if (file) return resolve(cwd, file);
  if (env.FJORD_CONFIG) return resolve(cwd, env.FJORD_CONFIG);
  const local = resolve(cwd, 'fjord.yaml');
  if (existsSync(local)) return local;
  const example = resolve(cwd, 'examples/fjord.yaml');
  if (existsSync(example)) return example;
  return resolve(PACKAGE_ROOT, 'examples/fjord.yaml');
}

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read; relative paths inside the config resolve against its directory. */
  path: string;
}

/** Reads and validates the config file (see `resolveConfigPath`). */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): LoadedConfig {
  const path = resolveConfigPath(options);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], path);
  }
  return { config: parseConfig(text, path), path };
}

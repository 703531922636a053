/**
 * Reads fjord.yaml once: `FJORD_CONFIG`, else `./fjord.yaml`, else `examples/fjord.yaml`. Every problem,
 * from YAML syntax to a dangling host reference, comes back as one ConfigError naming each path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { checkReferences } from './check-references.js';
import { formatIssues } from './format-issues.js';
import { configSchema, type Config } from './schema.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Which file `loadConfig` would read, in order of precedence. */
export function resolveConfigPath({ file, env = process.env, cwd = process.cwd() }: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  if (file) return resolve(cwd, file);
  if (env.FJORD_CONFIG) return resolve(cwd, env.FJORD_CONFIG);
  const local = resolve(cwd, 'fjord.yaml');
  if (existsSync(local)) return local;
  const example = resolve(cwd, 'examples/fjord.yaml');
  if (existsSync(example)) return example;
  return resolve(PACKAGE_ROOT, 'examples/fjord.yaml');
}

/** Parses and validates config text; `file` only labels errors. */
export function parseConfig(text: string, file?: string): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => e.message.split('\n')[0] ?? e.message), file);
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues), file);
  const problems = checkReferences(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems, file);
  return parsed.data;
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

/**
 * The config of a serverless entrypoint, read once per cold start: `FJORD_CONFIG_YAML` (the file's text in
 * an environment variable or a Workers secret/var) when set, else the file `loadConfig` finds
 * (`FJORD_CONFIG`, else `fjord.yaml` in the working directory — the Lambda bundle carries it there).
 */
import { loadConfig, type LoadedConfig } from './load.js';
import { parseConfig } from './parse.js';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const text = env.FJORD_CONFIG_YAML;
  if (text && text.trim() !== '') return { config: parseConfig(text, 'FJORD_CONFIG_YAML'), path: 'fjord.yaml' };
  return loadConfig({ env });
}

/**
 * Builds the configured `ManifestStore`: `manifest.backend: gitlab` (project + `sources.gitlab.url`, token
 * from the variable `sources.gitlab.tokenEnv` names) or `git` (`manifest.repository`, a path relative to
 * the config file's directory, or a URL). Missing pieces are a `ConfigError` naming the path.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { secretValue } from '../config/secrets.js';
import { ConfigError } from '../errors.js';
import type { ManifestStore } from './store.js';
import { GitManifestStore } from './store-git.js';
import { GitlabManifestStore } from './store-gitlab.js';

export interface StoreContext {
  env?: NodeJS.ProcessEnv;
  /** Where the git backend keeps its cache clone. */
  dataDir: string;
  /** Directory of fjord.yaml: relative repository paths resolve against it. */
  baseDir?: string;
}

// `scheme://…` or scp-like `user@host:path`; anything else is a local path.
export const isUrl = (repository: string): boolean =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(repository) || /^[^/\s]+@[^/\s]+:/.test(repository);

export function createManifestStore(
  config: Config,
  { env = process.env, dataDir, baseDir = process.cwd() }: StoreContext,
): ManifestStore {
  const { manifest } = config;
  if (manifest.backend === 'gitlab') {
    const gitlab = config.sources.gitlab;
    const problems: string[] = [];
    if (!manifest.project) problems.push('manifest.project: required when manifest.backend is gitlab');
    if (!gitlab?.tokenEnv)
      problems.push(
        'sources.gitlab.tokenEnv: required when manifest.backend is gitlab (the API token commits the manifest)',
      );
    const token = secretValue(env, gitlab?.tokenEnv);
    if (gitlab?.tokenEnv && !token)
      problems.push(`sources.gitlab.tokenEnv: environment variable ${gitlab.tokenEnv} is not set`);
    if (problems.length > 0 || !token || !gitlab || !manifest.project) throw new ConfigError(problems);
    return new GitlabManifestStore({
      url: gitlab.url,
      token,
      project: manifest.project,
      branch: manifest.branch,
      author: manifest.author,
    });
  }
  if (!manifest.repository) throw new ConfigError(['manifest.repository: required when manifest.backend is git']);
  const repository =
    isUrl(manifest.repository) || isAbsolute(manifest.repository)
      ? manifest.repository
      : resolve(baseDir, manifest.repository);
  return new GitManifestStore({ repository, branch: manifest.branch, dataDir, author: manifest.author });
}

/**
 * Embedded mode on a fresh machine: when `manifest.repository` is a local path that does not exist yet
 * and `manifest.seed` names a directory, create a bare repository there whose first commit holds the
 * seed's files. `npm start` with examples/fjord.yaml works out of the box this way.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config/schema.js';
import { isUrl } from './create-store.js';

const run = promisify(execFile);
const IDENTITY = {
  GIT_AUTHOR_NAME: 'fjord',
  GIT_AUTHOR_EMAIL: 'fjord@localhost',
  GIT_COMMITTER_NAME: 'fjord',
  GIT_COMMITTER_EMAIL: 'fjord@localhost',
};

/** Returns the path of the repository it created, or undefined when there was nothing to do. */
export async function seedRepository(config: Config, configPath: string): Promise<string | undefined> {
  const { backend, repository, seed, branch } = config.manifest;
  if (backend !== 'git' || !repository || !seed || isUrl(repository)) return undefined;
  const base = dirname(configPath);
  const bare = isAbsolute(repository) ? repository : resolve(base, repository);
  if (existsSync(bare)) return undefined;
  const work = mkdtempSync(join(tmpdir(), 'fjord-seed-'));
  try {
    const git = (cwd: string, args: string[]) => run('git', args, { cwd, env: { ...process.env, ...IDENTITY } });
    await git(work, ['init', '--quiet', '--bare', `--initial-branch=${branch}`, bare]);
    cpSync(resolve(base, seed), join(work, 'tree'), { recursive: true });
    await git(join(work, 'tree'), ['init', '--quiet', `--initial-branch=${branch}`]);
    await git(join(work, 'tree'), ['add', '-A']);
    await git(join(work, 'tree'), ['commit', '--quiet', '-m', `seed manifests from ${seed}`]);
    await git(join(work, 'tree'), ['push', '--quiet', bare, `HEAD:refs/heads/${branch}`]);
    return bare;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

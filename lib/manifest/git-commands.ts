/**
 * Pure argv builders for the git backend (STYLE.md principle 1: commands are data). Every value placed in
 * an argv is a commit id, a ref built from a grammar-checked branch, or a checked relative path, and
 * paths always follow `--`, so nothing can be read as an option.
 */
import { BRANCH } from '../grammar.js';
import { ManifestStoreError } from './store-errors.js';

/** Same rule as `manifest.file` in fjord.yaml: relative, inside the repository, no `..`. */
const FILE = /^(?!\/)(?!-)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9_./-]+$/;
const COMMIT = /^[0-9a-f]{7,64}$/;

export function checkFile(file: string): string {
  if (!FILE.test(file))
    throw new ManifestStoreError(`manifest file ${JSON.stringify(file)} is not a relative path inside the repository`);
  return file;
}
export function checkCommit(id: string): string {
  if (!COMMIT.test(id)) throw new ManifestStoreError(`${JSON.stringify(id)} is not a commit id`);
  return id;
}
export function checkBranch(branch: string): string {
  if (!BRANCH.test(branch)) throw new ManifestStoreError(`${JSON.stringify(branch)} is not a valid branch name`);
  return branch;
}

/** Local ref that mirrors the remote branch in the store's cache repository. */
export const trackingRef = (branch: string): string => `refs/remotes/origin/${checkBranch(branch)}`;

// %x1e ends a record, %x00 separates fields; the body (%B) is last so it may contain anything else.
export const LOG_FORMAT = '%H%x00%an%x00%ae%x00%aI%x00%B%x1e';

export const gitCommands = {
  initBare: (dir: string) => ['init', '--bare', '--quiet', dir],
  setRemote: (url: string) => ['config', 'remote.origin.url', url],
  fetch: (branch: string) => [
    'fetch',
    '--quiet',
    '--no-tags',
    'origin',
    `+refs/heads/${checkBranch(branch)}:${trackingRef(branch)}`,
  ],
  revParse: (ref: string) => ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`],
  lastCommitFor: (rev: string, file: string) => [
    '--literal-pathspecs',
    'log',
    '-1',
    '--format=%H',
    rev,
    '--',
    checkFile(file),
  ],
  lsTree: (rev: string, file: string) => ['--literal-pathspecs', 'ls-tree', '-z', rev, '--', checkFile(file)],
  /** Every file under `dir` at `rev` (recursive), NUL-separated, repository-relative. */
  lsFiles: (rev: string, dir: string) => [
    '--literal-pathspecs',
    'ls-tree',
    '-r',
    '-z',
    '--name-only',
    rev,
    '--',
    checkFile(dir),
  ],
  catBlob: (blob: string) => ['cat-file', 'blob', checkCommit(blob)],
  hashObject: () => ['hash-object', '-w', '--stdin'],
  readTree: (commit: string) => ['read-tree', checkCommit(commit)],
  updateIndex: (mode: string, blob: string, file: string) => [
    'update-index',
    '--add',
    '--cacheinfo',
    `${mode},${checkCommit(blob)},${checkFile(file)}`,
  ],
  writeTree: () => ['write-tree'],
  commitTree: (tree: string, parents: string[]) => [
    'commit-tree',
    checkCommit(tree),
    ...parents.flatMap((p) => ['-p', checkCommit(p)]),
    '-F',
    '-',
  ],
  updateRef: (ref: string, commit: string) => ['update-ref', ref, checkCommit(commit)],
  /** `--porcelain` marks each ref `!` when rejected; `--no-verify` keeps local hooks out of a worker. */
  push: (commit: string, branch: string, { force = false } = {}) => [
    'push',
    '--porcelain',
    '--no-verify',
    'origin',
    `${force ? '+' : ''}${checkCommit(commit)}:refs/heads/${checkBranch(branch)}`,
  ],
  log: (rev: string, file: string, limit: number) => [
    '--literal-pathspecs',
    'log',
    `--max-count=${Math.max(1, Math.floor(limit))}`,
    `--format=${LOG_FORMAT}`,
    rev,
    '--',
    checkFile(file),
  ],
};

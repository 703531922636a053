/**
 * Commit and push without a working tree, for the git backend: the new blob, a throw-away index seeded
 * from the parent's tree, `commit-tree`, and a push whose rejection is told apart from other refusals.
 */
import { encodeManifest } from './manifest-bytes.js';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { gitCommands as cmd } from './git-commands.js';
import { git, GitCommandFailed } from './git-cli.js';
import type { Author } from './store.js';
import { ManifestStoreError } from './store-errors.js';

export interface RepoIo {
  /** The (bare) repository to run in. */
  cwd: string;
  timeoutMs: number;
}

/** Writes a commit on `parent` whose tree differs only in `file` (mode kept); returns its id. */
export async function writeCommit(
  io: RepoIo,
  {
    parent,
    file,
    mode,
    content,
    message,
    author,
    committer,
  }: {
    parent: string;
    file: string;
    mode: string;
    content: string;
    message: string;
    author: Author;
    committer: Author;
  },
): Promise<string> {
  const index = join(io.cwd, `fjord-index-${randomBytes(6).toString('hex')}`);
  const env = {
    GIT_INDEX_FILE: index,
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
  };
  try {
    const blob = (await git(cmd.hashObject(), { ...io, input: encodeManifest(content) })).trim();
    await git(cmd.readTree(parent), { ...io, env });
    await git(cmd.updateIndex(mode, blob, file), { ...io, env });
    const tree = (await git(cmd.writeTree(), { ...io, env })).trim();
    return (await git(cmd.commitTree(tree, [parent]), { ...io, env, input: message })).trim();
  } finally {
    rmSync(index, { force: true });
  }
}

/** Pushes `commitId` to `branch` on origin. True when pushed; false when another push won the race;
 *  other refusals (hooks, branch protection, no access) are `ManifestStoreError`. */
export async function pushCommit(
  io: RepoIo,
  commitId: string,
  branch: string,
  options?: { force?: boolean },
): Promise<boolean> {
  try {
    await git(cmd.push(commitId, branch, options), io);
    return true;
  } catch (err) {
    if (err instanceof GitCommandFailed && lostRace(err)) return false;
    if (err instanceof GitCommandFailed) throw new ManifestStoreError(`push to ${branch} was refused: ${err.message}`);
    throw err;
  }
}

/** `[rejected] (fetch first | non-fast-forward)` when the remote moved before we sent; `[remote rejected]
 *  (failed to update ref)` / "cannot lock ref" when it moved while receive-pack held our objects. */
function lostRace(err: GitCommandFailed): boolean {
  if (/^!\t.*\t\[rejected\]/m.test(err.stdout)) return true;
  return (
    /^!\t.*\t\[remote rejected\]/m.test(err.stdout) &&
    /cannot lock ref|failed to update ref|failed to lock/i.test(err.stdout + err.stderr)
  );
}

/**
 * Managed files on one host against git (issue 13, drift): each target's hash, mode and owner read in one
 * command; a drifted file that is not `secret` also gets a unified diff (git's bytes → the host's), made
 * with the `diff` package and capped, so `fjord status`, the status page and the reconcile log show what
 * a hand edit changed. Read-only.
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type { SshSession } from '../ssh/types.js';
import { compareFile, withRemovedFiles, type DesiredFile, type FileSync } from './desired-files.js';
import { hashFiles, parseHashes, readFile } from './file-commands.js';

export interface FileDrift {
  source: string;
  target: string;
  status: FileSync;
  /** What applying git's version means on this host: its `reload`, an app `restart`, or nothing else. */
  onChange: 'reload' | 'restart' | 'none';
  /** sha256 of the file on the host (absent: missing). */
  hash?: string;
  /** git → host, unified; absent for in-sync, missing and secret files. */
  diff?: string;
}

const DIFF_MAX = 4000;

export async function readFileDrift(session: SshSession, wanted: readonly DesiredFile[]): Promise<FileDrift[]> {
  if (!wanted.length) return [];
  // A directory's record is fjord's own bookkeeping, not shown; the files gone from git that it names are (`extra`).
  const files = (await withRemovedFiles(wanted, (argv) => session.run(argv, { step: 'inspect' }))).filter(
    (f) => !f.record,
  );
  if (!files.length) return [];
  const states = parseHashes((await session.run(hashFiles(files.map((f) => f.target)), { step: 'inspect' })).stdout);
  return await Promise.all(
    files.map(async (f) => {
      const have = states.get(f.target);
      const status = compareFile(f, have);
      const onChange = f.restart ? 'restart' : f.reload ? 'reload' : 'none';
      const out: FileDrift = {
        source: f.source,
        target: f.target,
        status,
        onChange,
        ...(have ? { hash: have.sha256 } : {}),
      };
      if (status !== 'drifted' || f.secret || !f.content || have?.sha256 === f.sha256) return out;
      const onHost = (await session.run(readFile(f.target), { step: 'inspect' })).stdout;
      const diff = createTwoFilesPatch(
        `git:${f.source}`,
        `${session.host.name}:${f.target}`,
        f.content.toString('utf8'),
        onHost,
        undefined,
        undefined,
        { headerOptions: FILE_HEADERS_ONLY },
      );
      return {
        ...out,
        diff: diff.length > DIFF_MAX ? `${diff.slice(0, DIFF_MAX)}\n… (diff cut at ${DIFF_MAX} characters)\n` : diff,
      };
    }),
  );
}

/**
 * A host's managed files in one rollout (issue 13): read every target's hash; for the files that differ
 * from git, upload each to a temp path beside its target and run its `validate` on it — all of them
 * before any is swapped, so a file that fails validation changes nothing — then keep each previous file
 * and rename the new one over it, and run each distinct `reload` once. `restoreFiles` (the rollback) puts
 * the previous bytes back and reloads again.
 */
import { CommandFailed } from '../ssh/errors.js';
import type { SshSession } from '../ssh/types.js';
import { compareFile, withRemovedFiles, type DesiredFile } from '../files/desired-files.js';
import {
  backupJobs,
  discardStaged,
  hashFiles,
  parseBackupJobs,
  parseHashes,
  restoreFile,
  stageFile,
  swapFile,
} from '../files/file-commands.js';
import { FILE_PLACEHOLDER } from '../files/file-schema.js';
import { FileInvalid } from './errors.js';
import type { StepRunner } from './host-steps.js';
import { nginxReload } from './proxy/nginx.js';

export interface AppliedFiles {
  /** Files swapped on the host (in order): what a rollback puts back. */
  changed: DesiredFile[];
  /** A changed file asks for the app's container to be restarted. */
  restart: boolean;
}

const STAGED_PATH = /^\/[A-Za-z0-9_./@+-]+\n?$/;
const describe = (f: DesiredFile) => `files[${f.index}] ${f.source} → ${f.target}`;

/** The reload commands of `files`, each once, in order of first appearance. */
export function reloadsOf(files: readonly DesiredFile[]): string[][] {
  const seen = new Set<string>();
  const argv = files.flatMap((f) =>
    f.reload ? [Array.isArray(f.reload) ? f.reload : nginxReload(f.reload.nginx.pidFile)] : [],
  );
  return argv.filter((a) => !seen.has(JSON.stringify(a)) && !!seen.add(JSON.stringify(a)));
}

/** Applies `files` on the host; `swapped` is told of each file as soon as it replaced the old one. */
export async function applyFiles(
  run: StepRunner,
  s: SshSession,
  host: string,
  wanted: readonly DesiredFile[],
  jobId: string,
  swapped: (f: DesiredFile) => void,
): Promise<AppliedFiles> {
  if (!wanted.length) return { changed: [], restart: false };
  // A `prune: true` directory's files gone from git, as the host's record of what fjord wrote there names them.
  const files = await withRemovedFiles(wanted, (argv) => run.command(s, { step: 'files', argv }));
  const hashes = parseHashes(
    (await run.command(s, { step: 'files', argv: hashFiles(files.map((f) => f.target)) })).stdout,
  );
  const pending = files.filter((f) => compareFile(f, hashes.get(f.target)) !== 'in-sync');
  // Already as git says because an earlier delivery of this job (its worker died) swapped it: changed by
  // this job all the same, so a rollback puts the bytes from before it back.
  const inSync = files.filter((f) => !pending.includes(f));
  const jobs = inSync.length
    ? parseBackupJobs((await run.command(s, { step: 'files', argv: backupJobs(inSync.map((f) => f.backup)) })).stdout)
    : new Map<string, string>();
  const earlier = inSync.filter((f) => jobs.get(f.backup) === jobId);
  earlier.forEach(swapped);
  const staged: DesiredFile[] = [];
  try {
    for (const f of pending) {
      if (!f.content) continue; // pruned: nothing to upload or validate
      const out = await run.step('files', (timeoutMs) =>
        s.run(stageFile(f.target, f.mode, f.owner), { step: 'files', timeoutMs, stdin: f.content! }),
      );
      staged.push(f);
      if (!STAGED_PATH.test(out.stdout))
        throw new Error(`host ${host}: ${describe(f)}: unexpected temp path from the host`);
      if (!f.validate) continue;
      const file = out.stdout.trim();
      const argv = f.validate.map((a) => a.split(FILE_PLACEHOLDER).join(file));
      await run.step('validate', (timeoutMs) =>
        s.run(argv, { step: 'validate', timeoutMs }).catch((err: unknown) => {
          throw err instanceof CommandFailed ? new FileInvalid(host, describe(f), err) : err;
        }),
      );
    }
  } catch (err) {
    for (const f of staged) await s.exec(discardStaged(f.target), { step: 'files' }).catch(() => undefined);
    throw err;
  }
  for (const f of pending) {
    await run.command(s, { step: 'files', argv: swapFile(f.target, f.backup, f.content ? 'rename' : 'remove', jobId) });
    swapped(f);
  }
  const changed = [...earlier, ...pending];
  for (const argv of reloadsOf(changed)) await run.command(s, { step: 'reload', argv });
  return { changed, restart: changed.some((f) => f.restart) };
}

/** Puts the previous bytes of `changed` back (last changed first) and runs their reloads again. */
export async function restoreFiles(run: StepRunner, s: SshSession, changed: readonly DesiredFile[]): Promise<void> {
  for (const f of [...changed].reverse())
    await run.command(s, { step: 'files', argv: restoreFile(f.target, f.backup) });
  for (const argv of reloadsOf(changed)) await run.command(s, { step: 'reload', argv });
}

/**
 * The host-side file primitive as argv (STYLE.md "Commands are data"), shared by managed files and any
 * other file fjord writes on a host: upload to a temp path beside the target (from the SSH channel's
 * stdin, never a command line), mode and owner set on the temp file, keep the previous bytes (or the fact
 * that there were none), atomic rename, put the previous bytes back, read hashes. Paths are positional
 * parameters of fixed scripts; a relative path is relative to the deploy user's home.
 */
import { createHash } from 'node:crypto';

/** `abs PATH`: the absolute path (relative ones are under $HOME). */
const ABS = 'abs() { case "$1" in /*) printf %s "$1";; *) printf %s "$HOME/$1";; esac; }';
/** `new PATH`: the temp file beside PATH, hidden (a `*.conf` include glob does not pick it up). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: POSIX shell parameter expansion, run by the host's shell
const NEW = 'new() { printf %s "${1%/*}/.${1##*/}.fjord-new"; }';
const PRELUDE = `set -e; ${ABS}; ${NEW}`;

const STAGE = `${PRELUDE}; t=$(abs "$1"); mkdir -p -- "\${t%/*}"; n=$(new "$t"); umask 077; cat > "$n"; chmod "$2" -- "$n"; if [ -n "$3" ]; then chown "$3" -- "$n"; fi; printf '%s\\n' "$n"`;
const SWAP = `${PRELUDE}; t=$(abs "$1"); b=$(abs "$2"); mkdir -p -- "\${b%/*}"; if [ -e "$t" ]; then cp -p -- "$t" "$b"; rm -f -- "$b.absent"; else rm -f -- "$b"; : > "$b.absent"; fi; printf '%s\\n' "$4" > "$b.job"; if [ "$3" = remove ]; then rm -f -- "$t"; else mv -f -- "$(new "$t")" "$t"; fi`;
const JOBS = `${ABS}; for b; do j=$(cat -- "$(abs "$b").job" 2>/dev/null || true); printf '%s %s\\n' "\${j:--}" "$b"; done`;
const RESTORE = `${PRELUDE}; t=$(abs "$1"); b=$(abs "$2"); if [ -e "$b.absent" ]; then rm -f -- "$t"; elif [ -e "$b" ]; then n=$(new "$t"); cp -p -- "$b" "$n"; mv -f -- "$n" "$t"; else echo "no previous bytes kept for $1" >&2; exit 3; fi`;
const DISCARD = `${PRELUDE}; rm -f -- "$(new "$(abs "$1")")"`;
const HASH = `${ABS}; for f; do p=$(abs "$f"); if [ -f "$p" ]; then h=$(sha256sum < "$p"); printf '%s %s %s\\n' "\${h%% *}" "$(stat -c '%a %U:%G' -- "$p")" "$f"; else printf -- '- - - %s\\n' "$f"; fi; done`;

const sh = (name: string, script: string, ...args: string[]): string[] => ['sh', '-c', script, name, ...args];

/** Writes stdin to the temp file beside `target` with `mode` (and `owner`); prints the temp file's absolute path. */
export const stageFile = (target: string, mode: string, owner?: string): string[] =>
  sh('fjord-stage', STAGE, target, mode, owner ?? '');

/**
 * Keeps `target`'s bytes (or that it did not exist) at `backup`, notes the job that swapped it (`<backup>.job`),
 * then renames the staged file over it (or, `remove`, deletes it).
 */
export const swapFile = (target: string, backup: string, how: 'rename' | 'remove' = 'rename', jobId = ''): string[] =>
  sh('fjord-swap', SWAP, target, backup, how, jobId);

/** One line per backup: `<job id that swapped it last, or -> <backup>`. */
export const backupJobs = (backups: readonly string[]): string[] => sh('fjord-backup-jobs', JOBS, ...backups);

/** Parses `backupJobs` output: backup → job id (absent: none recorded). */
export const parseBackupJobs = (stdout: string): Map<string, string> =>
  new Map(
    stdout.split('\n').flatMap((l) => {
      const m = /^(\S+) (.+)$/.exec(l);
      return m && m[1] !== '-' ? [[m[2]!, m[1]!] as [string, string]] : [];
    }),
  );

/** Puts the bytes kept at `backup` back into `target` atomically (or removes it when it did not exist before). */
export const restoreFile = (target: string, backup: string): string[] => sh('fjord-restore', RESTORE, target, backup);

/** Removes the staged temp file of `target` (a validation that failed). */
export const discardStaged = (target: string): string[] => sh('fjord-discard', DISCARD, target);

/** One line per path: `<sha256> <mode> <user:group> <path>`, or `- - - <path>` when it is not a file. */
export const hashFiles = (targets: readonly string[]): string[] => sh('fjord-hash', HASH, ...targets);

/** The file's bytes (`cat`), for a drift diff. */
export const readFile = (target: string): string[] => ['cat', '--', target];

/** The directory of an environment's kept bytes and records: `<stateDir>/files/<app>.<env>`. */
export const backupDir = (stateDir: string, app: string, environment: string): string =>
  `${stateDir}/files/${app}.${environment}`;

const pathId = (target: string) => createHash('sha256').update(target).digest('hex').slice(0, 16);

/** Where the previous bytes of `target` are kept: `<stateDir>/files/<app>.<env>/<sha256(target)[:16]>`. */
export const backupPath = (stateDir: string, app: string, environment: string, target: string): string =>
  backupIn(backupDir(stateDir, app, environment), target);

/** `backupPath` inside an environment's `backupDir`. */
export const backupIn = (dir: string, target: string): string => `${dir}/${pathId(target)}`;

/** Where a `prune: true` directory's record of the files fjord wrote under `target` is kept: `<backupDir>/dir-<sha256(target)[:16]>.list`. */
export const recordPath = (dir: string, target: string): string => `${dir}/dir-${pathId(target)}.list`;

/** The file's text, or nothing when it does not exist (a record fjord has not written yet). */
export const readIfExists = (target: string): string[] => [
  'sh',
  '-c',
  'cat -- "$1" 2>/dev/null || true',
  'fjord-read',
  target,
];

export interface FileState {
  sha256: string;
  /** Octal permission bits as `stat %a` prints them (`644`). */
  mode: string;
  owner: string;
}

/** Parses `hashFiles` output: path → state (undefined: missing). */
export function parseHashes(stdout: string): Map<string, FileState | undefined> {
  const out = new Map<string, FileState | undefined>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (\S+) (\S+) (.+)$/.exec(line);
    if (!m) continue;
    out.set(m[4]!, m[1] === '-' ? undefined : { sha256: m[1]!, mode: m[2]!, owner: m[3]! });
  }
  return out;
}

export const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

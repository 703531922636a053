/**
 * Commands on fjord's state directory on a host (`ssh.stateDir`, relative to the deploy user's home):
 * the host lock, the record of the deployed image, and the record of what ran before a job changed it.
 *
 * Lock: `mkdir <stateDir>/lock` is atomic, so of two deploys only one creates it; the winner writes an
 * `owner` file (token, job, who, when). A lock is taken over when its directory is older than
 * `lockStaleAfter`, or at once when its owner is the same job: the queue hands a job to one consumer at a
 * time, so a lock of this job that we do not hold was left by an earlier delivery that died (kill -9, a
 * lost box) and whose visibility timeout ran out — waiting for `lockStaleAfter` (1 h by default) would only
 * stall the redelivery. Taking over renames the old lock away first (atomic too: of two takers only one
 * rename succeeds), then re-makes it. Scripts are constant text; every value is a positional parameter.
 */
import { posix } from 'node:path';

/** Exit status of the acquire script when the lock is held by someone else (EX_TEMPFAIL). */
export const LOCK_HELD_EXIT = 75;

const ACQUIRE = [
  // umask 077: the state directory, the lock and its owner file are the deploy user's alone (issue 12, item 9).
  'umask 077; dir=$1; owner=$2; stale=$3; job=$4; lock="$dir/lock"',
  'mkdir -p "$dir" || exit 1',
  'take() { mkdir "$lock" 2>/dev/null && printf "%s\\n" "$owner" > "$lock/owner"; }',
  'if take; then echo acquired; exit 0; fi',
  'old=$(cat "$lock/owner" 2>/dev/null); now=$(date +%s); made=$(stat -c %Y "$lock" 2>/dev/null || echo "$now")',
  'if [ $((now - made)) -ge "$stale" ] || { [ -n "$job" ] && printf "%s\\n" "$old" | grep -qxF -e "job=$job"; }; then mv "$lock" "$lock.stale.$$" 2>/dev/null && rm -rf "$lock.stale.$$" && take && { printf "taken-over\\n%s\\n" "$old"; exit 0; }; fi',
  'printf "%s\\n" "$old"',
  `exit ${LOCK_HELD_EXIT}`,
].join('; ');

// Removes the lock only when its owner file still starts with our token (a taken-over lock is not ours).
const RELEASE = 'lock="$1/lock"; [ "$(head -n 1 "$lock/owner" 2>/dev/null)" = "token=$2" ] && rm -rf "$lock"; exit 0';

/** The owner file's text; its first line is the token that release checks. */
export function lockOwner(o: {
  token: string;
  jobId: string;
  app: string;
  environment: string;
  owner: string;
  time: Date;
}): string {
  return [
    `token=${o.token}`,
    `job=${o.jobId}`,
    `app=${o.app}`,
    `environment=${o.environment}`,
    `owner=${o.owner}`,
    `time=${o.time.toISOString()}`,
  ].join('\n');
}

/** Takes the lock for `owner`; a lock older than `staleAfterMs`, or held by `jobId` itself, is taken over. */
export const acquireLock = (stateDir: string, owner: string, staleAfterMs: number, jobId = ''): string[] => [
  'sh',
  '-c',
  ACQUIRE,
  'fjord-lock',
  stateDir,
  owner,
  String(Math.max(1, Math.ceil(staleAfterMs / 1000))),
  jobId,
];
export const releaseLock = (stateDir: string, token: string): string[] => [
  'sh',
  '-c',
  RELEASE,
  'fjord-unlock',
  stateDir,
  token,
];

// `/fjord unlock` / `fjord unlock`: breaks the lock only when its owner file names this app and environment
// (a host may be shared: another environment's deploy, which our queue group does not exclude, keeps its
// lock). Renamed away first, like a takeover, so of two breakers only one succeeds. Prints `none`,
// `unlocked` or `other`, then the owner file.
const BREAK = [
  'lock="$1/lock"; [ -d "$lock" ] || { echo none; exit 0; }',
  'old=$(cat "$lock/owner" 2>/dev/null)',
  'if printf "%s\\n" "$old" | grep -qxF -e "app=$2" && printf "%s\\n" "$old" | grep -qxF -e "environment=$3"; then mv "$lock" "$lock.stale.$$" && rm -rf "$lock.stale.$$" && { printf "unlocked\\n%s\\n" "$old"; exit 0; }; exit 1; fi',
  'printf "other\\n%s\\n" "$old"',
].join('; ');

/** Breaks the host lock when it is held for `app`/`environment` (whoever took it); see BREAK. */
export const breakLock = (stateDir: string, app: string, environment: string): string[] => [
  'sh',
  '-c',
  BREAK,
  'fjord-break-lock',
  stateDir,
  app,
  environment,
];

/** `<stateDir>/<kind>/<app>.<environment>`: one small file per app environment and kind of record. */
export const stateFile = (
  stateDir: string,
  kind: 'deployed' | 'before' | 'heal',
  app: string,
  environment: string,
): string => posix.join(stateDir, kind, `${app}.${environment}`);

// Written beside and renamed over: a reader never sees half a record.
const WRITE = 'umask 077; mkdir -p "$(dirname "$1")" && printf "%s\\n" "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"';

/** Writes `text` (plus a newline) to `file` atomically; `label` is the script's `$0`, shown by `--dry-run`. */
export const writeStateFile = (label: string, file: string, text: string): string[] => [
  'sh',
  '-c',
  WRITE,
  label,
  file,
  text,
];
/** Prints `file`; nothing (exit 0) when it does not exist. */
export const readStateFile = (label: string, file: string): string[] => [
  'sh',
  '-c',
  'cat "$1" 2>/dev/null; exit 0',
  label,
  file,
];

/** `key=value` lines of a record (split at the first `=`; other lines skipped). */
export const parseFields = (text: string): Map<string, string> =>
  new Map(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

/** Records `image:tag` as deployed (the `command` strategy's only record of what runs). */
export const recordDeployed = (stateDir: string, app: string, environment: string, ref: string): string[] =>
  writeStateFile('fjord-record', stateFile(stateDir, 'deployed', app, environment), ref);
/** Prints the recorded `image:tag`; nothing (exit 0) when none is recorded. */
export const readDeployed = (stateDir: string, app: string, environment: string): string[] =>
  readStateFile('fjord-read', stateFile(stateDir, 'deployed', app, environment));

/**
 * Records, before `jobId` first changes the host, the `image:tag` that ran there ('' for nothing). A later
 * delivery of the same job (its worker died mid-rollout) reads it back: the host is then known as changed
 * by this job, and a rollback puts back what ran before the job, not what the dead attempt left running.
 */
export const recordBefore = (
  stateDir: string,
  app: string,
  environment: string,
  jobId: string,
  ref: string,
): string[] =>
  writeStateFile('fjord-before', stateFile(stateDir, 'before', app, environment), `job=${jobId}\nprevious=${ref}`);
/** Prints the record of `recordBefore` (`job=…` and `previous=…` lines); nothing (exit 0) when there is none. */
export const readBefore = (stateDir: string, app: string, environment: string): string[] =>
  readStateFile('fjord-read', stateFile(stateDir, 'before', app, environment));

/** The recorded previous `image:tag` when the record is `jobId`'s ('' when nothing ran); undefined otherwise. */
export function parseBefore(stdout: string, jobId: string): string | undefined {
  const fields = parseFields(stdout);
  return fields.get('job') === jobId ? fields.get('previous') : undefined;
}

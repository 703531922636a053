/**
 * Commands on fjord's state directory on a host (`ssh.stateDir`, relative to the deploy user's home):
 * the host lock and the record of the deployed image.
 *
 * Lock: `mkdir <stateDir>/lock` is atomic, so of two deploys only one creates it; the winner writes an
 * `owner` file (token, job, who, when). A lock whose directory is older than `lockStaleAfter` is taken
 * over: it is first renamed away (atomic too: of two takers only one rename succeeds), then re-made.
 * Scripts are constant text; every value is a positional parameter.
 */
import { posix } from 'node:path';

/** Exit status of the acquire script when the lock is held by someone else (EX_TEMPFAIL). */
export const LOCK_HELD_EXIT = 75;

const ACQUIRE = [
  'dir=$1; owner=$2; stale=$3; lock="$dir/lock"',
  'mkdir -p "$dir" || exit 1',
  'take() { mkdir "$lock" 2>/dev/null && printf "%s\\n" "$owner" > "$lock/owner"; }',
  'if take; then echo acquired; exit 0; fi',
  'now=$(date +%s); made=$(stat -c %Y "$lock" 2>/dev/null || echo "$now")',
  'if [ $((now - made)) -ge "$stale" ]; then old=$(cat "$lock/owner" 2>/dev/null); mv "$lock" "$lock.stale.$$" 2>/dev/null && rm -rf "$lock.stale.$$" && take && { printf "taken-over\\n%s\\n" "$old"; exit 0; }; fi',
  'cat "$lock/owner" 2>/dev/null',
  `exit ${LOCK_HELD_EXIT}`,
].join('; ');

// Removes the lock only when its owner file still starts with our token (a taken-over lock is not ours).
const RELEASE = 'lock="$1/lock"; [ "$(head -n 1 "$lock/owner" 2>/dev/null)" = "token=$2" ] && rm -rf "$lock"; exit 0';

/** The owner file's text; its first line is the token that release checks. */
export function lockOwner(o: { token: string; jobId: string; app: string; environment: string; owner: string; time: Date }): string {
  return [`token=${o.token}`, `job=${o.jobId}`, `app=${o.app}`, `environment=${o.environment}`, `owner=${o.owner}`, `time=${o.time.toISOString()}`].join('\n');
}

export const acquireLock = (stateDir: string, owner: string, staleAfterMs: number): string[] => [
  'sh', '-c', ACQUIRE, 'fjord-lock', stateDir, owner, String(Math.max(1, Math.ceil(staleAfterMs / 1000))),
];
export const releaseLock = (stateDir: string, token: string): string[] => ['sh', '-c', RELEASE, 'fjord-unlock', stateDir, token];

const deployedFile = (stateDir: string, app: string, environment: string) => posix.join(stateDir, 'deployed', `${app}.${environment}`);
const RECORD = 'mkdir -p "$(dirname "$1")" && printf "%s\\n" "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"';

/** Records `image:tag` as deployed (the `command` strategy's only record of what runs). */
export const recordDeployed = (stateDir: string, app: string, environment: string, ref: string): string[] => [
  'sh', '-c', RECORD, 'fjord-record', deployedFile(stateDir, app, environment), ref,
];
/** Prints the recorded `image:tag`; nothing (exit 0) when none is recorded. */
export const readDeployed = (stateDir: string, app: string, environment: string): string[] => [
  'sh', '-c', 'cat "$1" 2>/dev/null; exit 0', 'fjord-read', deployedFile(stateDir, app, environment),
];

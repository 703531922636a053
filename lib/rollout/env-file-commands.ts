/**
 * The app's env file on a host (README "Files and secrets"): `<ssh.stateDir>/env/<app>.<env>.env`, owned
 * by root (uid 0, gid 0), mode 0600 in a 0700 directory, written atomically (temp file beside it, owner
 * and mode set on it, then `mv`) from the SSH channel's stdin, so no value is ever part of a command line
 * (argv shows in `ps`) or of a shell-interpolated string: the path is a positional parameter of a fixed
 * script. Root-owned means the SSH user must be root: `docker run --env-file` reads the file in the docker
 * CLI, as the SSH user, so a root-owned 0600 file is readable only when fjord's docker commands run as
 * root too. `requireRoot` checks that before anything on the host changes.
 */
import { FjordError } from '../errors.js';
import { parseHashes, sha256, type FileState } from '../files/file-commands.js';
import type { CommandFailed } from '../ssh/errors.js';
import type { Secret } from '../secret.js';

export const envFilePath = (stateDir: string, app: string, environment: string): string =>
  `${stateDir}/env/${app}.${environment}.env`;

/** What a container started with secrets carries: its env file and the `fjord.secrets` label (digest of the encrypted file). */
export interface ContainerSecrets {
  path: string;
  digest: string;
  envFile: Secret;
}

export const SECRETS_LABEL = 'fjord.secrets';

/** Exit code of `requireRoot` when the SSH user is not root. */
export const NOT_ROOT_EXIT = 77;

/** The SSH user cannot make the env file root-owned: nothing on the host was changed. */
export class EnvFileNotRootOwned extends FjordError {
  override status = 422;
  constructor(
    readonly host: string,
    readonly user: string,
  ) {
    super(
      `host ${host}: the env file must be root-owned (0600, uid 0), but the SSH user ${user || '(unknown)'} is not root; connect as root (hosts.${host}.user: root): docker run --env-file reads the file as the SSH user`,
    );
  }
}

const ROOT = `if [ "$(id -u)" != 0 ]; then id -un >&2; exit ${NOT_ROOT_EXIT}; fi`;
const WRITE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: POSIX shell parameter expansion, run by the host's shell
  'umask 077 && mkdir -p -- "${1%/*}" && t="$1.tmp.$$" && cat > "$t" && chown 0:0 -- "$t" && chmod 600 -- "$t" && mv -f -- "$t" "$1"';

/** argv that exits `NOT_ROOT_EXIT` (the user's name on stderr) unless the SSH user is root. */
export const requireRoot = (): string[] => ['sh', '-c', ROOT, 'fjord-root'];

/** `requireRoot`'s failure as `EnvFileNotRootOwned`; any other failure as it was. */
export const explainNotRoot = (failed: CommandFailed): Error =>
  failed.exitCode === NOT_ROOT_EXIT
    ? new EnvFileNotRootOwned(failed.host, failed.stderrTail.trim().split('\n').pop() ?? '')
    : failed;

/** argv that writes stdin to `path` atomically, owned by root (0:0) with mode 0600. */
export const writeEnvFile = (path: string): string[] => ['sh', '-c', WRITE, 'fjord-env', path];

/** argv that prints the env file now on the host (nothing when there is none); its output stays in memory, compared by key. */
export const readEnvFile = (path: string): string[] => [
  'sh',
  '-c',
  'cat -- "$1" 2>/dev/null || true',
  'fjord-env',
  path,
];

/** `docker run` options that hand the env file to the container and label it with the digest. */
export const secretsRunArgs = (s: ContainerSecrets | undefined): string[] =>
  s ? ['--env-file', s.path, '--label', `${SECRETS_LABEL}=${s.digest}`] : [];

/** Owner and mode when they are not root's 0600 (`mode 644, owner deploy:deploy`); undefined when they are. */
export const envFileAccess = (have: FileState): string | undefined =>
  Number.parseInt(have.mode, 8) === 0o600 && have.owner === 'root:root'
    ? undefined
    : `mode ${have.mode}, owner ${have.owner}`;

/** Whether `hashFiles([path])`'s output shows the env file as it should be: these bytes, root-owned, 0600. */
export function envFileMatches(hashOutput: string, want: Pick<ContainerSecrets, 'path' | 'envFile'>): boolean {
  const have = parseHashes(hashOutput).get(want.path);
  return !!have && have.sha256 === sha256(want.envFile.reveal()) && !envFileAccess(have);
}

/**
 * The app's env file on a host (README "Files and secrets"): `<ssh.stateDir>/env/<app>.<env>.env`, mode 0600 in a
 * 0700 directory, written atomically (temp file beside it, then `mv`) from the SSH channel's stdin, so
 * no value is ever part of a command line (argv shows in `ps`) or of a shell-interpolated string: the
 * path is a positional parameter of a fixed script. Its own module, to be unified later with the managed
 * files' upload primitive (lib/files).
 */
import type { Secret } from '../secret.js';

export const envFilePath = (stateDir: string, app: string, environment: string): string => `${stateDir}/env/${app}.${environment}.env`;

/** What a container started with secrets carries: its env file and the `fjord.secrets` label (digest of the encrypted file). */
export interface ContainerSecrets {
  path: string;
  digest: string;
  envFile: Secret;
}

export const SECRETS_LABEL = 'fjord.secrets';

const WRITE = 'umask 077 && mkdir -p -- "${1%/*}" && t="$1.tmp.$$" && cat > "$t" && chmod 600 "$t" && mv -f -- "$t" "$1"';

/** argv that writes stdin to `path` atomically with mode 0600. */
export const writeEnvFile = (path: string): string[] => ['sh', '-c', WRITE, 'fjord-env', path];

/** argv that prints the env file now on the host (nothing when there is none); its output stays in memory, compared by key. */
export const readEnvFile = (path: string): string[] => ['sh', '-c', 'cat -- "$1" 2>/dev/null || true', 'fjord-env', path];

/** `docker run` options that hand the env file to the container and label it with the digest. */
export const secretsRunArgs = (s: ContainerSecrets | undefined): string[] => (s ? ['--env-file', s.path, '--label', `${SECRETS_LABEL}=${s.digest}`] : []);

/**
 * argv builders for the `compose` strategy. The tag is written into the project's `.env` file (one
 * `TAG=…` line, the file's other lines kept), which Compose reads for `${TAG}` interpolation
 * (docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/): it persists, so a
 * later `docker compose up` by hand keeps the deployed tag.
 */
import { posix } from 'node:path';

export interface ComposeTarget {
  directory: string;
  service: string;
  /** Variable the compose file uses for the tag (`image: registry/api:${TAG}`). */
  tagVariable: string;
}

// Values arrive as positional parameters, never inside the script text; written to a temp file and
// renamed, so a reader never sees a half-written .env.
const SET_TAG =
  'f=$1; k=$2; v=$3; t="$f.fjord-tmp.$$"; { [ -f "$f" ] && grep -v "^$k=" "$f"; printf "%s=%s\\n" "$k" "$v"; } > "$t" && mv -f "$t" "$f"';

export const composeSetTag = (t: ComposeTarget, tag: string): string[] => [
  'sh',
  '-c',
  SET_TAG,
  'fjord-set-tag',
  posix.join(t.directory, '.env'),
  t.tagVariable,
  tag,
];

// Compose v2 is the `docker compose` CLI plugin; Debian 12 ships only the Python `docker-compose` 1.29,
// which takes the same arguments used here. The host decides which one it has.
const COMPOSE =
  'if docker compose version >/dev/null 2>&1; then exec docker compose "$@"; else exec docker-compose "$@"; fi';

/** `docker compose ARGS…` where the plugin exists, else `docker-compose ARGS…`. */
export const compose = (...args: string[]): string[] => ['sh', '-c', COMPOSE, 'fjord-compose', ...args];
export const composePull = (t: ComposeTarget): string[] =>
  compose('--project-directory', t.directory, 'pull', t.service);
export const composeUp = (t: ComposeTarget): string[] =>
  compose('--project-directory', t.directory, 'up', '-d', t.service);

/** Compose's default project name: the directory's base name, lowercased, other characters dropped. */
export const composeProject = (directory: string): string =>
  posix
    .basename(posix.normalize(directory))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '');

const PS_FORMAT = '{{.Names}}|{{.Image}}|{{.State}}|{{json .Labels}}';

/** The service's container(s), as lines `name|image:tag|state|labels`. */
export const composeInspectRunning = (t: ComposeTarget): string[] => [
  'docker',
  'ps',
  '-a',
  '--filter',
  `label=com.docker.compose.project=${composeProject(t.directory)}`,
  '--filter',
  `label=com.docker.compose.service=${t.service}`,
  '--format',
  PS_FORMAT,
];

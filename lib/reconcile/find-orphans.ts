/**
 * `fjord prune` (issue 13, item 5): containers fjord started (label `fjord.app`) for an app × environment
 * that fjord.yaml no longer places on that host. Pure: the listing command, its parsing, the removal
 * commands. Values read back from a host are checked against fjord's own grammars before any is used in
 * a command; a line that fails is skipped and reported, never acted on.
 */
import { NAME } from '../grammar.js';
import { stateFile } from '../rollout/state-commands.js';

export interface Orphan {
  host: string;
  container: string;
  app: string;
  environment: string;
}

const CONTAINER = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** Every container carrying fjord's labels, as `name|app|environment` lines. */
export const listFjordContainers = (): string[] => [
  'docker',
  'ps',
  '-a',
  '--filter',
  'label=fjord.app',
  '--format',
  '{{.Names}}|{{.Label "fjord.app"}}|{{.Label "fjord.environment"}}',
];

/** The orphans among one host's containers: those whose app × environment does not list `host` (or no longer exists). */
export function parseOrphans(
  host: string,
  stdout: string,
  placed: (app: string, environment: string, host: string) => boolean,
): { orphans: Orphan[]; skipped: string[] } {
  const orphans: Orphan[] = [];
  const skipped: string[] = [];
  for (const line of stdout.split('\n').filter(Boolean)) {
    const [container = '', app = '', environment = ''] = line.split('|');
    if (!CONTAINER.test(container) || !NAME.test(app) || !NAME.test(environment)) {
      skipped.push(line.slice(0, 200));
      continue;
    }
    if (!placed(app, environment, host)) orphans.push({ host, container, app, environment });
  }
  return { orphans, skipped };
}

/** Removes the orphan's container, and its env file, managed-file backups and state records under `stateDir`. */
export const pruneCommands = (stateDir: string, o: Orphan): string[][] => [
  ['docker', 'rm', '-f', o.container],
  [
    'rm',
    '-rf',
    '--',
    `${stateDir}/env/${o.app}.${o.environment}.env`,
    `${stateDir}/files/${o.app}.${o.environment}`,
    ...(['deployed', 'before', 'heal'] as const).map((k) => stateFile(stateDir, k, o.app, o.environment)),
  ],
];

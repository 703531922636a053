/**
 * One environment's drift: the manifest's tag against what each of its hosts runs, with each host's
 * self-heal record, and — for `selfHeal: true` — what the heal ledger allows now. Read-only. Hosts are
 * read in parallel over the fleet handed in (one session per host, kept for the caller).
 */
import type { Config } from '../config/schema.js';
import { FjordError } from '../errors.js';
import { readTag } from '../manifest/index.js';
import type { ManifestStore } from '../manifest/store.js';
import { readRunningOn, type RunningTarget } from '../rollout/read-running.js';
import type { Fleet } from '../ssh/fleet.js';
import type { SshSession } from '../ssh/types.js';
import { classifyHost, type HostDrift } from './classify-host.js';
import { decideHeal } from './decide-heal.js';
import type { EnvironmentDrift } from './drift-types.js';
import { parseHealRecord, readHealRecordCommand, type HealRecord } from './heal-record.js';
import type { DesiredFile } from '../files/desired-files.js';
import { loadDesiredFiles } from '../files/load-desired-files.js';
import { readFileDrift } from '../files/read-file-drift.js';
import { envFilePath } from '../rollout/env-file-commands.js';
import type { Secret } from '../secret.js';
import { decryptAppSecrets } from '../secrets/load-app-secrets.js';
import { readEnvFileDrift, type DesiredEnvFile } from './read-env-file-drift.js';

export interface EnvironmentCheck {
  config: Config;
  store: ManifestStore;
  /** Holds (at least) the environment's hosts; the caller closes it. */
  fleet: Fleet;
  app: string;
  environment: string;
  now: Date;
  /** The worker's age identities: an environment with `secrets.file` has its env files compared (none: not compared, and said so). */
  ageIdentities?: readonly Secret[];
}

async function readHealRecord(
  session: SshSession,
  stateDir: string,
  app: string,
  environment: string,
): Promise<HealRecord | undefined> {
  const r = await session.run(readHealRecordCommand(stateDir, app, environment), { step: 'inspect' });
  return parseHealRecord(r.stdout);
}

export interface HostReading extends RunningTarget {
  stateDir: string;
  image: string;
  desiredTag: string | undefined;
  /** The managed files this host should hold: compared too (a changed file is drift). */
  files?: readonly DesiredFile[];
  /** The env file this host should hold (`secrets.file`, decrypted): compared by hash. */
  secrets?: DesiredEnvFile;
}

/**
 * One host against the manifest's tag (with its self-heal record when `healRecord`). Connection and command
 * failures are the host's state (`unreachable`), so `fleet` may be the error that kept it from opening.
 */
export async function readHostDrift(
  fleet: Fleet | Error,
  host: string,
  r: HostReading,
  { healRecord: withRecord = false } = {},
): Promise<HostDrift> {
  const reading = { host, image: r.image, desiredTag: r.desiredTag };
  try {
    if (fleet instanceof Error) throw fleet;
    const session = await fleet.session(host);
    const running = await readRunningOn(session, r);
    const healRecord = withRecord ? await readHealRecord(session, r.stateDir, r.app, r.environment) : undefined;
    const files = r.files?.length ? await readFileDrift(session, r.files) : undefined;
    const secrets = r.secrets ? await readEnvFileDrift(session, r.secrets) : undefined;
    const drift = classifyHost({ ...reading, ...(running ? { running } : {}) });
    // The right image with a file or an env file that differs from git is drift too.
    const off = files?.some((f) => f.status !== 'in-sync') || (secrets && secrets.status !== 'in-sync');
    if (off && drift.status === 'in-sync') drift.status = 'drifted';
    return {
      ...drift,
      ...(files ? { files } : {}),
      ...(secrets ? { secrets } : {}),
      ...(healRecord ? { healRecord } : {}),
    };
  } catch (err) {
    // Anything but a FjordError is a bug: let it throw.
    if (!(err instanceof FjordError)) throw err;
    return classifyHost({ ...reading, error: err });
  }
}

export async function checkEnvironmentDrift({
  config,
  store,
  fleet,
  app,
  environment,
  now,
  ageIdentities = [],
}: EnvironmentCheck): Promise<EnvironmentDrift> {
  const appConfig = config.apps[app]!;
  const env = appConfig.environments[environment]!;
  const entry: EnvironmentDrift = { app, environment, file: env.manifest.file, hosts: [] };
  let desiredTag: string | undefined;
  let files: Map<string, DesiredFile[]> | undefined;
  let secrets: DesiredEnvFile | undefined;
  try {
    desiredTag = readTag((await store.read(env.manifest.file)).content, env.manifest);
    files = await loadDesiredFiles(config, store, app, environment, env);
    if (env.secrets && ageIdentities.length) {
      const decrypted = await decryptAppSecrets(
        env.secrets,
        (await store.read(env.secrets.file)).content,
        ageIdentities,
      );
      secrets = {
        file: env.secrets.file,
        path: envFilePath(config.ssh.stateDir, app, environment),
        envFile: decrypted.envFile,
      };
    } else if (env.secrets && env.hosts.length)
      entry.secretsNotChecked = `${env.secrets.file}: env files not compared (no age identity in ${config.secrets.identityEnv})`;
  } catch (err) {
    if (!(err instanceof FjordError)) throw err;
    entry.error = `${err.name}: ${err.message}`;
    return entry;
  }
  if (desiredTag !== undefined) entry.desiredTag = desiredTag;
  const stateDir = config.ssh.stateDir;
  entry.hosts = await Promise.all(
    env.hosts.map((host) =>
      readHostDrift(
        fleet,
        host,
        {
          app,
          environment,
          env,
          stateDir,
          image: appConfig.image,
          desiredTag,
          ...(files ? { files: files.get(host) ?? [] } : {}),
          ...(secrets ? { secrets } : {}),
        },
        { healRecord: true },
      ),
    ),
  );
  const heal = env.selfHeal ? decideHeal(entry, config.reconcile, now) : undefined;
  if (heal) entry.heal = heal;
  return entry;
}

/**
 * The read-only half of a `plan` job: for each environment the merge deploys to, the manifest edit it
 * would commit (made in memory with bumpTag, never written), the rollout batches, and what the hosts run
 * now; plus whether the image is in the registry yet. Hosts see only the inspect command
 * (lib/rollout/read-running.ts): no lock, no pull, no container change. One fleet serves every host.
 */
import type { Config, EnvironmentConfig } from '../config/schema.js';
import { FjordError } from '../errors.js';
import type { DeployJob } from '../job.js';
import { bumpTag } from '../manifest/index.js';
import type { ManifestStore } from '../manifest/store.js';
import { readHostDrift } from '../reconcile/check-environment.js';
import type { ImageRef } from '../registry/reference.js';
import { planBatches } from '../rollout/plan-batches.js';
import type { Fleet } from '../ssh/fleet.js';
import { diffExcerpt } from './diff-excerpt.js';
import { loadDesiredFiles } from '../files/load-desired-files.js';
import { envFilePath, readEnvFile } from '../rollout/env-file-commands.js';
import type { Secret } from '../secret.js';
import { envFileChanges } from '../secrets/env-file-changes.js';
import { decryptAppSecrets } from '../secrets/load-app-secrets.js';
import { planEnvironments, type PlannedEnvironment } from './plan-environments.js';
import type { EnvironmentPlan, ImageCheck, Plan } from './types.js';

export interface ComputePorts {
  config: Config;
  store: ManifestStore;
  /** A fleet over the named hosts; closed here when the plan is made. */
  fleetFor(hosts: readonly string[]): Fleet;
  /** Absent: the image is not looked up. */
  imageExists?(ref: ImageRef): Promise<boolean>;
  /** The worker's age identities: an environment's secrets are compared with each host's env file by name. */
  ageIdentities?: readonly Secret[];
  now?: () => Date;
}

const describe = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** The plan of `job` (reason `plan`; its app must exist in `config`). */
export async function computePlan(job: DeployJob, ports: ComputePorts): Promise<Plan> {
  const { config } = ports;
  const app = config.apps[job.app]!;
  const branch = job.source.ref ?? app.source.branch;
  const planned = planEnvironments(app, branch);
  const hosts = [...new Set(planned.flatMap((p) => app.environments[p.environment]!.hosts))];
  let fleet: Fleet | Error | undefined;
  try {
    fleet = hosts.length > 0 ? ports.fleetFor(hosts) : undefined;
  } catch (err) {
    // No SSH key, say: every host is then unreachable for this plan, and the plan says why.
    if (!(err instanceof FjordError)) throw err;
    fleet = err;
  }
  try {
    const [imageCheck, environments] = await Promise.all([
      checkImage(job, app.waitForImage, ports),
      Promise.all(planned.map((p) => planEnvironment(job, p, app.environments[p.environment]!, fleet, ports))),
    ]);
    return {
      app: job.app,
      image: job.image,
      tag: job.tag,
      template: app.tag,
      sha: job.sha ?? '',
      targetBranch: branch,
      imageCheck,
      environments,
      plannedAt: (ports.now?.() ?? new Date()).toISOString(),
    };
  } finally {
    if (fleet && !(fleet instanceof Error)) await fleet.close();
  }
}

async function planEnvironment(
  job: DeployJob,
  p: PlannedEnvironment,
  env: EnvironmentConfig,
  fleet: Fleet | Error | undefined,
  ports: ComputePorts,
): Promise<EnvironmentPlan> {
  const r = env.rollout;
  const plan: EnvironmentPlan = {
    ...p,
    file: env.manifest.file,
    writeBack: env.writeBack ?? ports.config.manifest.writeBack,
    diff: '',
    strategy: r.strategy,
    canary: r.canary,
    batchSize: r.batchSize,
    batches: planBatches(env.hosts, r.batchSize, r.canary),
    hosts: [],
  };
  try {
    const file = await ports.store.read(env.manifest.file);
    const bumped = bumpTag(file.content, env.manifest, job.tag);
    if (bumped.previousTag !== undefined) plan.currentTag = bumped.previousTag;
    if (bumped.changed) plan.diff = diffExcerpt(env.manifest.file, file.content, bumped.text);
  } catch (err) {
    if (!(err instanceof FjordError)) throw err;
    plan.error = describe(err);
    return plan; // without the manifest's tag there is no drift to speak of
  }
  const stateDir = ports.config.ssh.stateDir;
  // `fleet` is undefined only when no environment has hosts, and then there is nothing to map.
  // Managed files too: per host, the files the rollout would change and what that means (reload, restart).
  const files = await loadDesiredFiles(ports.config, ports.store, job.app, p.environment, env).catch((err: unknown) => {
    if (!(err instanceof FjordError)) throw err;
    plan.error = describe(err);
    return undefined;
  });
  plan.hosts = await Promise.all(
    env.hosts.map((host) =>
      readHostDrift(fleet!, host, {
        app: job.app,
        environment: p.environment,
        env,
        stateDir,
        image: job.image,
        desiredTag: plan.currentTag,
        ...(files ? { files: files.get(host) ?? [] } : {}),
      }),
    ),
  );
  if (env.secrets && fleet && !(fleet instanceof Error))
    plan.secrets = await planSecrets(job, p.environment, env, fleet, ports);
  return plan;
}

/** Decrypts the environment's secrets and compares them with each reachable host's env file, by name. */
async function planSecrets(
  job: DeployJob,
  environment: string,
  env: EnvironmentConfig,
  fleet: Fleet,
  ports: ComputePorts,
): Promise<NonNullable<EnvironmentPlan['secrets']>> {
  const file = env.secrets!.file;
  let next: Secret;
  try {
    next = (await decryptAppSecrets(env.secrets!, (await ports.store.read(file)).content, ports.ageIdentities ?? []))
      .envFile;
  } catch (err) {
    if (!(err instanceof FjordError)) throw err;
    return { file, error: describe(err), hosts: [] };
  }
  const path = envFilePath(ports.config.ssh.stateDir, job.app, environment);
  const hosts = await Promise.all(
    env.hosts.map(async (host) => {
      try {
        return {
          host,
          changes: envFileChanges((await (await fleet.session(host)).run(readEnvFile(path))).stdout, next),
        };
      } catch {
        return { host }; // unreachable: the drift column already says why
      }
    }),
  );
  return { file, hosts };
}

/** Optional and without waiting: one HEAD request; a registry that cannot answer makes it `unknown`. */
async function checkImage(job: DeployJob, waitForImage: number, ports: ComputePorts): Promise<ImageCheck> {
  if (!ports.imageExists || waitForImage === 0) return { status: 'unchecked' };
  try {
    return { status: (await ports.imageExists({ image: job.image, tag: job.tag })) ? 'found' : 'missing' };
  } catch (err) {
    return { status: 'unknown', detail: describe(err) };
  }
}

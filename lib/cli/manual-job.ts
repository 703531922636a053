/** Shared by `fjord deploy` and `fjord rollback`: build a job from the command line and run it through the worker's pipeline. */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { FjordError } from '../errors.js';
import { deployJobSchema, type DeployJob, type Reason } from '../job.js';
import { createLogger } from '../log.js';
import { formatIssues } from '../config/format-issues.js';
import { makeDeployPorts } from '../worker/make-handler.js';
import type { DeployPorts } from '../worker/deploy.js';
import type { CliIo } from './command.js';
import { UsageError } from './command.js';

export interface ManualRun {
  ports: DeployPorts;
  build(tag: string, reason: Reason): DeployJob;
}

export function prepareManual(app: string | undefined, environment: string | undefined, configFile: string | undefined, io: CliIo): ManualRun {
  if (!app || !environment) throw new UsageError('name the app and the environment');
  const { config, path } = loadConfig({ file: configFile, env: io.env, cwd: io.cwd });
  const appConfig = config.apps[app];
  if (!appConfig?.environments[environment]) throw new UsageError(`fjord.yaml has no environment ${app}/${environment}`);
  const dataDir = resolve(io.cwd, io.env.FJORD_DATA_DIR ?? '.fjord');
  const ports = makeDeployPorts({ config, configPath: path, dataDir: resolve(dataDir, 'cli'), env: io.env });
  const author = (() => {
    try {
      return userInfo().username.slice(0, 200);
    } catch {
      return undefined;
    }
  })();
  return {
    ports,
    build(tag, reason) {
      const parsed = deployJobSchema.safeParse({
        v: 1,
        id: randomUUID(),
        app,
        environment,
        image: appConfig.image,
        tag,
        reason,
        source: { provider: 'cli', ...(author ? { author } : {}) },
        enqueuedAt: new Date().toISOString(),
      });
      if (!parsed.success) throw new FjordError(formatIssues(parsed.error.issues).join('; '));
      return parsed.data;
    },
  };
}

/** Runs the job in this process and prints the outcome; exit 0 for deployed/noop/proposed, 1 otherwise. */
export async function runManual(run: ManualRun, job: DeployJob, io: CliIo): Promise<number> {
  const { deploy } = await import('../worker/deploy.js');
  const logger = createLogger({ write: (line) => io.stderr(line + '\n'), level: (io.env.FJORD_LOG_LEVEL as 'info') ?? 'info' });
  const outcome = await deploy(job, { heartbeat: async () => {}, attempts: 1, logger: logger.child({ job: job.id }), signal: new AbortController().signal }, run.ports);
  io.stdout(`${job.app}/${job.environment} ${job.reason} ${job.tag}: ${outcome.status}${outcome.detail ? ` — ${outcome.detail}` : ''}\n`);
  return ['deployed', 'noop', 'proposed'].includes(outcome.status) ? 0 : 1;
}

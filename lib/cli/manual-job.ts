/** Shared by `fjord deploy` and `fjord rollback`: build a job from the command line and run it through the worker's pipeline. */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { FjordError } from '../errors.js';
import { deployJobSchema, type DeployJob, type Reason } from '../job.js';
import { createLogger } from '../log.js';
import { formatIssues } from '../config/format-issues.js';
import { parseDuration } from '../config/duration.js';
import { fleetForConfig } from '../reconcile/fleet-for.js';
import type { Fleet } from '../ssh/fleet.js';
import { RetryableError, type Outcome } from '../worker/outcome.js';
import { GateWait } from '../gates/gate.js';
import { cleanText, TEXT } from '../grammar.js';
import { holdHosts } from './hold-hosts.js';
import { makeDeployPorts } from '../worker/make-handler.js';
import type { DeployPorts } from '../worker/ports.js';
import { formatDiagnostics } from '../rollout/format-diagnostics.js';
import { formatRolloutPlan } from '../rollout/format-plan.js';
import type { RolloutEvent, RolloutReport } from '../rollout/types.js';
import type { CliIo } from './command.js';
import { UsageError } from './command.js';

export interface ManualRun {
  ports: DeployPorts;
  /** A fleet over the named hosts, with fjord.yaml's SSH key (the host locks are taken before the commit). */
  fleetFor(hosts: readonly string[]): Fleet;
  build(tag: string, reason: Reason): DeployJob;
}

export function prepareManual(
  app: string | undefined,
  environment: string | undefined,
  configFile: string | undefined,
  io: CliIo,
): ManualRun {
  if (!app || !environment) throw new UsageError('name the app and the environment');
  const { config, path } = loadConfig({ file: configFile, env: io.env, cwd: io.cwd });
  const appConfig = config.apps[app];
  if (!appConfig?.environments[environment])
    throw new UsageError(`fjord.yaml has no environment ${app}/${environment}`);
  const dataDir = resolve(io.cwd, io.env.FJORD_DATA_DIR ?? '.fjord');
  const ports = makeDeployPorts({ config, configPath: path, dataDir: resolve(dataDir, 'cli'), env: io.env });
  const author = cliUser();
  return {
    ports,
    fleetFor: fleetForConfig(config, io.env, dirname(path)),
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

/** Who runs the CLI (the OS user name), for trailers and holds. */
export function cliUser(): string | undefined {
  try {
    return userInfo().username.slice(0, 200);
  } catch {
    return undefined;
  }
}

/** `--dry-run`: the exact commands per host, without connecting or committing. */
export function dryRun(run: ManualRun, job: DeployJob, io: CliIo): number {
  const { config } = run.ports;
  const env = config.apps[job.app]!.environments[job.environment]!;
  io.stdout(`${job.app}/${job.environment}: would set ${env.manifest.file} to ${job.tag} (commit), then roll out:\n`);
  if (env.hosts.length === 0) io.stdout('  (no hosts: the manifest commit is the deploy)\n');
  else
    io.stdout(
      formatRolloutPlan(
        {
          app: job.app,
          environment: job.environment,
          image: job.image,
          tag: job.tag,
          jobId: job.id,
          env,
          hosts: env.hosts,
        },
        { stateDir: config.ssh.stateDir, lockStaleAfterMs: config.ssh.lockStaleAfter },
      ) + '\n',
    );
  return 0;
}

/** One progress line per host step and batch (the worker logs the same events as JSON lines). */
export function progressLine(e: RolloutEvent): string | undefined {
  switch (e.type) {
    case 'batch-start':
      return `batch ${e.batch + 1}: ${e.hosts.join(', ')}`;
    case 'host-step':
      return e.status === 'start'
        ? undefined
        : `  ${e.host.padEnd(12)} ${(e.rollback ? 'rollback ' : '') + e.step} ${e.status}${e.ms !== undefined ? ` (${Math.round(e.ms)} ms)` : ''}`;
    case 'rollback-start':
      return `rolling back ${e.hosts.join(', ')}: ${e.reason}`;
    case 'host-done':
      return `  ${e.host.padEnd(12)} → ${e.status}`;
    case 'lock-taken-over':
      return `  ${e.host.padEnd(12)} took over a lock left by ${e.from}`;
    default:
      return undefined;
  }
}

/** `--override-freeze "<reason>"`: deploy inside a freeze; the reason goes into the commit's `Fjord-Freeze-Override` trailer. */
export const OVERRIDE_OPTION = { 'override-freeze': { type: 'string' } } as const;

/** The ports with the person's override, after checking the reason is one clean line of 3–200 characters. */
export function withOverride(run: ManualRun, reason: string | undefined): ManualRun {
  if (reason === undefined) return run;
  const text = cleanText(reason).trim();
  if (text.length < 3 || !TEXT.test(text) || text !== reason.trim())
    throw new UsageError(
      '--override-freeze needs a reason: one line of 3 to 200 characters, without control characters',
    );
  return { ...run, ports: { ...run.ports, overrides: { ...run.ports.overrides, freeze: text } } };
}

/** `--wait` of `fjord deploy` / `fjord rollback`: how long a host another deploy holds is waited for. */
export const WAIT_OPTION = { wait: { type: 'string', default: '5m' } } as const;

export function waitMsOf(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`--wait: ${(err as Error).message}`);
  }
}

/**
 * Runs the job in this process and prints progress and the outcome; exit 0 for deployed/noop/proposed, 1
 * otherwise. The hosts' locks are taken first (lib/cli/hold-hosts.ts): a host another deploy holds is
 * waited for up to `waitMs`, then the command refuses, before anything is committed.
 */
export async function runManual(run: ManualRun, job: DeployJob, io: CliIo, waitMs = 5 * 60_000): Promise<number> {
  const { deploy } = await import('../worker/deploy.js');
  const logger = createLogger({
    write: (line) => io.stderr(line + '\n'),
    level: (io.env.FJORD_LOG_LEVEL as 'info') ?? 'warn',
  });
  // The rollout takes over the locks held below for this job: that is no news for the user.
  const ours = (e: RolloutEvent) => e.type === 'lock-taken-over' && e.from.split(', ').includes(`job=${job.id}`);
  const ports = {
    ...run.ports,
    onRolloutEvent: (e: RolloutEvent) => {
      const line = ours(e) ? undefined : progressLine(e);
      if (line) io.stdout(line + '\n');
    },
  };
  const { config } = run.ports;
  const hosts = config.apps[job.app]!.environments[job.environment]!.hosts;
  const fleet = run.fleetFor(hosts);
  let outcome: Outcome;
  try {
    const release = await holdHosts(fleet, hosts, job, {
      stateDir: config.ssh.stateDir,
      lockStaleAfterMs: config.ssh.lockStaleAfter,
      waitMs,
      onWait: (host, owner) =>
        io.stdout(`waiting for ${host}: locked by another deploy (${owner.replace(/\n/g, ', ')})\n`),
    });
    try {
      outcome = await deploy(
        job,
        {
          heartbeat: async () => {},
          attempts: 1,
          logger: logger.child({ job: job.id }),
          signal: new AbortController().signal,
        },
        ports,
      );
    } catch (err) {
      // The worker would put the job back; here the user is told, and the manifest says what it says.
      if (err instanceof RetryableError) throw new FjordError(`${err.message}; try again`);
      // A person is at the keyboard: no durable wait, say until when and how to go ahead anyway.
      if (err instanceof GateWait)
        throw new FjordError(
          `${err.reason}; nothing committed (\`--override-freeze "<reason>"\` deploys now and records the reason)`,
        );
      throw err;
    } finally {
      await release();
    }
  } finally {
    await fleet.close();
  }
  io.stdout(
    `${job.app}/${job.environment} ${job.reason} ${job.tag}: ${outcome.status}${outcome.detail ? ` — ${outcome.detail}` : ''}\n`,
  );
  const report = outcome.rollout as RolloutReport | undefined;
  for (const h of report?.hosts ?? []) {
    const timings = Object.entries(h.timings)
      .map(([step, ms]) => `${step} ${Math.round(ms)}ms`)
      .join(', ');
    io.stdout(
      `  ${h.host.padEnd(12)} ${h.status.padEnd(15)} ${timings}${h.downtimeMs !== undefined ? ` · downtime ${h.downtimeMs}ms (stop-then-start, no proxy)` : ''}\n`,
    );
    if (h.diagnostics)
      io.stdout(
        formatDiagnostics(h.diagnostics)
          .map((l) => `    ${l}\n`)
          .join(''),
      );
  }
  if (report) io.stdout(`  total ${Math.round(report.durationMs)} ms\n`);
  return ['deployed', 'noop', 'proposed', 'held'].includes(outcome.status) ? 0 : 1;
}

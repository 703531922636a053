/**
 * The worker's `command` job (issue 14, item 4): check the commenter's permission through the platform's
 * API before anything runs; refused → a reply and nothing else. Then run the verb through the cores the CLI
 * uses (the deploy pipeline, lib/holds, previousTag) and answer in the comment's thread. The job runs in the
 * environment's queue group, so never during one of its deploys.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { renderTag } from '../events/render-tag.js';
import { heldText } from '../holds/hold.js';
import { changeHold } from '../holds/write-hold.js';
import type { DeployJob } from '../job.js';
import { readTag } from '../manifest/index.js';
import type { ManifestStore } from '../manifest/store.js';
import type { DeployPorts } from '../worker/ports.js';
import type { Outcome } from '../worker/outcome.js';
import { previousTag } from '../worker/previous-tag.js';
import type { JobContext } from '../worker/worker-loop.js';
import { noApprovals, type Approvals } from './approvals.js';
import { HELP_TEXT } from './parse-command.js';
import type { CommandPlatform } from './platform.js';
import { renderPlan } from '../plan/render-plan.js';
import type { Plan } from '../plan/types.js';
import type { Fleet } from '../ssh/fleet.js';
import { hideAddresses, hostAddresses } from '../hide-addresses.js';
import { formatUnlock, unlockEnvironment } from './unlock-environment.js';

export interface CommandPorts {
  config: Config;
  store: ManifestStore;
  /** The platform the comment came from; absent: no API token configured (the command is refused, unanswered). */
  platform?: CommandPlatform;
  deployPorts: DeployPorts;
  /** The deploy pipeline (lib/worker/deploy.ts), run with `deployPorts`. */
  deploy(job: DeployJob, ctx: JobContext, ports: DeployPorts): Promise<Outcome>;
  /** The run mode's queue: a release's converge job goes through it. */
  enqueue?(job: DeployJob): Promise<void>;
  /** A plan of the MR (lib/plan), for `/fjord plan`. */
  plan?(job: DeployJob, ctx: JobContext): Promise<Outcome>;
  approvals?: Approvals;
  /** A fleet over fjord.yaml's hosts (pinned keys), for `/fjord unlock`; absent: unlock is not available. */
  fleetFor?(hosts: readonly string[]): Fleet;
}

/** The MR's head commit: the Note Hook's, else the platform's (a GitHub issue_comment names none). */
const headOf = async (job: DeployJob, platform: CommandPlatform): Promise<string | undefined> =>
  job.sha ?? (await platform.head?.(job));
const tagOf = (config: Config, job: DeployJob, sha: string) =>
  renderTag(config.apps[job.app]!.tag, { sha, branch: job.source.ref ?? '', mr: job.source.mr });

const jobIdOf = (job: DeployJob, what: string) =>
  `${what}-${createHash('sha256').update(`${job.id}\n${what}`).digest('hex').slice(0, 40)}`;

export async function runCommand(job: DeployJob, ctx: JobContext, ports: CommandPorts): Promise<Outcome> {
  const command = job.command;
  if (!command) return { status: 'failed', detail: 'command job without a command' };
  const who = `@${command.user.username}`;
  const platform = ports.platform;
  if (!platform) {
    ctx.logger.error('command refused: no API token for the platform, so no permission check', {
      provider: job.source.provider,
    });
    return {
      status: 'failed',
      detail: `refused: no ${job.source.provider} API token configured to check ${who}'s permission`,
      refused: true,
    };
  }
  const reply = async (text: string, outcome: Outcome): Promise<Outcome> => {
    // Replies are read outside the fleet: host addresses out (lib/hide-addresses.ts), host names stay.
    await platform.reply(job, hideAddresses(`${who} ${text}`, hostAddresses(ports.config.hosts)));
    return outcome;
  };
  if (command.verb === 'help')
    return reply(`${command.problem ? `${command.problem}.\n\n` : ''}${HELP_TEXT}`, {
      status: 'noop',
      detail: `help${command.problem ? `: ${command.problem}` : ''}`,
    });
  const min = ports.config.commands.minAccessLevel;
  const level = await platform.accessLevel(job);
  if (level < min) {
    ctx.logger.warn('command refused', { user: command.user.username, verb: command.verb, level, min });
    return reply(
      `may not run \`/fjord ${command.verb}\`: it needs access level ${min} on ${job.source.project}, you have ${level}. Nothing was done.`,
      { status: 'noop', detail: `refused: ${command.user.username} has access level ${level} < ${min}`, refused: true },
    );
  }
  const { app, environment } = job;
  const env = ports.config.apps[app]!.environments[environment]!;
  const by = `${command.user.username} (${job.source.provider})`;
  switch (command.verb) {
    case 'approve':
    case 'reject':
      return reply((await (ports.approvals ?? noApprovals)(job)).text, { status: 'noop', detail: command.verb });
    case 'hold': {
      const hold = {
        since: new Date().toISOString(),
        by,
        reason: command.reason ?? `held by /fjord hold on ${job.source.project}!${job.source.mr}`,
      };
      const { commitId, previous } = await changeHold(ports.store, app, environment, hold, { keep: () => true });
      return reply(
        commitId
          ? `held: ${heldText(hold, app, environment)}`
          : `already held: ${heldText(previous!, app, environment)}`,
        { status: 'noop', detail: 'hold' },
      );
    }
    case 'release': {
      const { commitId } = await changeHold(ports.store, app, environment, undefined, { by });
      const tag = readTag((await ports.store.read(env.manifest.file)).content, env.manifest);
      if (!commitId)
        return reply(`${app}/${environment} was not held; nothing to release`, { status: 'noop', detail: 'not held' });
      if (!tag || !ports.enqueue)
        return reply(`released ${app}/${environment} (${commitId.slice(0, 12)}); the next deploy rolls out`, {
          status: 'noop',
          detail: 'released',
        });
      // Converge to what git says, through the normal queue and locks; keyed by the release commit (never a duplicate).
      await ports.enqueue({
        v: 1,
        id: jobIdOf(job, 'release'),
        app,
        environment,
        image: job.image,
        tag,
        sha: commitId,
        reason: 'converge',
        source: { provider: 'fjord', author: command.user.username },
        enqueuedAt: new Date().toISOString(),
      });
      return reply(`released ${app}/${environment} (${commitId.slice(0, 12)}); rolling out ${tag}`, {
        status: 'noop',
        detail: 'released',
      });
    }
    case 'deploy':
    case 'rollback': {
      const sha = command.verb === 'deploy' && !command.tag ? await headOf(job, platform) : undefined;
      const tag =
        command.tag ??
        (command.verb === 'rollback'
          ? await previousTag(ports.store, env.manifest)
          : sha
            ? tagOf(ports.config, job, sha)
            : undefined);
      if (!tag)
        return reply(`no tag to ${command.verb} to: give one (${command.verb === 'deploy' ? '--tag' : '--to'} T)`, {
          status: 'noop',
          detail: 'no tag',
        });
      if (command.verb === 'rollback')
        await changeHold(
          ports.store,
          app,
          environment,
          { since: new Date().toISOString(), by, reason: `/fjord rollback to ${tag}` },
          { keep: () => true },
        );
      const order: DeployJob = {
        ...job,
        id: jobIdOf(job, command.verb),
        tag,
        reason: command.verb === 'deploy' ? 'manual' : 'rollback',
      };
      const outcome = await ports.deploy(order, ctx, ports.deployPorts);
      return reply(
        `\`${command.verb} ${environment}\` → ${tag}: ${outcome.status}${outcome.detail ? ` — ${outcome.detail}` : ''}`,
        outcome,
      );
    }
    case 'plan': {
      const sha = await headOf(job, platform);
      if (!ports.plan || !sha)
        return reply('no plan: the merge request head commit is unknown here', { status: 'noop', detail: 'no plan' });
      // The plan of the MR's head, with the tag its merge would deploy (the command job's own tag is a placeholder).
      const outcome = await ports.plan(
        {
          ...job,
          id: jobIdOf(job, 'plan'),
          sha,
          tag: tagOf(ports.config, job, sha),
          reason: 'plan',
          command: undefined,
        } as DeployJob,
        ctx,
      );
      const plan = outcome.plan as Plan | undefined;
      return reply(
        plan
          ? `plan (${outcome.detail ?? outcome.status}):\n\n${renderPlan(plan)}`
          : `plan: ${outcome.status}${outcome.detail ? ` — ${outcome.detail}` : ''}`,
        outcome,
      );
    }
    case 'unlock': {
      if (!ports.fleetFor)
        return reply('`/fjord unlock` is not available in this run mode (no SSH fleet)', {
          status: 'noop',
          detail: 'unlock not available',
        });
      const results = await unlockEnvironment(ports.config, app, environment, ports.fleetFor, ctx.logger);
      return reply(formatUnlock(app, environment, results), {
        status: results.some((r) => r.state === 'unreachable') ? 'failed' : 'noop',
        detail: `unlock: ${results.map((r) => `${r.host} ${r.state}`).join(', ') || 'no hosts'}`,
      });
    }
  }
}

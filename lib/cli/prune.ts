/**
 * `fjord prune [--apply]`: containers fjord started for apps or environments no longer in fjord.yaml (or
 * no longer on that host), with their env files and records. A dry run by default: it lists what it would
 * remove; `--apply` removes it, each host under its deploy lock. Exit 1 when a host could not be read.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { loadConfig } from '../config/index.js';
import { FjordError } from '../errors.js';
import { listFjordContainers, parseOrphans, pruneCommands, type Orphan } from '../reconcile/find-orphans.js';
import { fleetForConfig } from '../reconcile/fleet-for.js';
import { lockHost, unlockHost } from '../rollout/host-lock.js';
import { lockOwner } from '../rollout/state-commands.js';
import type { SshSession } from '../ssh/types.js';
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';

export const pruneCommand: Command = {
  name: ['prune'],
  summary: 'remove containers of apps and environments no longer in fjord.yaml (dry run unless --apply)',
  usage: 'fjord prune [--apply] [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, {
      apply: { type: 'boolean', default: false },
      config: { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const { config, path } = loadConfig({ file: values.config, env: io.env, cwd: io.cwd });
    const hosts = Object.keys(config.hosts);
    const placed = (app: string, environment: string, host: string) =>
      config.apps[app]?.environments[environment]?.hosts.includes(host) ?? false;
    const fleet = fleetForConfig(config, io.env, dirname(path))(hosts);
    const token = randomBytes(12).toString('hex');
    const owner = lockOwner({
      token,
      jobId: `prune-${token}`,
      app: '-',
      environment: '-',
      owner: `fjord prune on ${hostname()} pid ${process.pid}`,
      time: new Date(),
    });
    let code = 0;
    const prune = async (s: SshSession, orphans: Orphan[]) => {
      await lockHost(s, config.ssh.stateDir, owner, config.ssh.lockStaleAfter);
      try {
        for (const o of orphans)
          for (const argv of pruneCommands(config.ssh.stateDir, o)) await s.run(argv, { step: 'remove' });
      } finally {
        await unlockHost(s, config.ssh.stateDir, token);
      }
    };
    try {
      for (const host of hosts) {
        try {
          const s = await fleet.session(host);
          const { orphans, skipped } = parseOrphans(
            host,
            (await s.run(listFjordContainers(), { step: 'inspect' })).stdout,
            placed,
          );
          for (const line of skipped)
            io.stderr(
              `${host}: skipped a container whose fjord labels are not fjord's names: ${JSON.stringify(line)}\n`,
            );
          if (values.apply && orphans.length) await prune(s, orphans);
          for (const o of orphans)
            io.stdout(
              `${host}  ${o.app}/${o.environment}  container ${o.container}  ${values.apply ? 'removed' : 'would be removed'}\n`,
            );
        } catch (err) {
          if (!(err instanceof FjordError)) throw err;
          io.stderr(`${host}: ${err.name}: ${err.message}\n`);
          code = 1;
        }
      }
    } finally {
      await fleet.close();
    }
    if (!values.apply) io.stdout('dry run: nothing was removed (run with --apply to remove)\n');
    return code;
  },
};

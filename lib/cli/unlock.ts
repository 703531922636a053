/**
 * `fjord unlock <app> <env>` (issue 14, item 4, as `/fjord unlock`): break the host locks a dead deploy of
 * the environment left, instead of waiting for `ssh.lockStaleAfter`. Exit 1 when a host could not be reached.
 */
import { createLogger } from '../log.js';
import { formatUnlock, unlockEnvironment } from '../commands/unlock-environment.js';
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';
import { prepareManual } from './manual-job.js';

export const unlockCommand: Command = {
  name: ['unlock'],
  summary: "break the host locks of an environment left by a deploy that died (not another environment's)",
  usage: 'fjord unlock <app> <env> [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, { config: { type: 'string' } });
    if (positionals.length > 2) throw new UsageError('unlock takes only the app and the environment');
    const run = prepareManual(positionals[0], positionals[1], values.config, io);
    const [app, environment] = positionals as [string, string];
    const results = await unlockEnvironment(
      run.ports.config,
      app,
      environment,
      run.fleetFor,
      createLogger({ write: (line) => io.stderr(line + '\n'), level: (io.env.FJORD_LOG_LEVEL as 'info') ?? 'info' }),
    );
    io.stdout(`${formatUnlock(app, environment, results)}\n`);
    return results.some((r) => r.state === 'unreachable') ? 1 : 0;
  },
};

/**
 * `fjord hold <app> <env> [--reason R]` and `fjord release <app> <env>` (issue 14, item 3): hold an
 * environment on purpose (merges are committed, nothing rolls out), and release it — remove the hold in git
 * and converge the environment to what the manifest says now, under the hosts' locks like `fjord deploy`.
 */
import { readTag } from '../manifest/index.js';
import { heldText } from '../holds/hold.js';
import { changeHold } from '../holds/write-hold.js';
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';
import { cliUser, prepareManual, runManual, WAIT_OPTION, waitMsOf } from './manual-job.js';

export const holdCommand: Command = {
  name: ['hold'],
  summary: 'hold an environment: merges are still committed, nothing rolls out until fjord release',
  usage: 'fjord hold <app> <env> [--reason <text>] [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, {
      reason: { type: 'string', default: 'held on purpose' },
      config: { type: 'string' },
    });
    if (positionals.length > 2) throw new UsageError('hold takes only the app and the environment');
    const run = prepareManual(positionals[0], positionals[1], values.config, io);
    const [app, environment] = positionals as [string, string];
    const hold = { since: new Date().toISOString(), by: cliUser() ?? 'fjord cli', reason: values.reason };
    const { commitId, previous } = await changeHold(run.ports.store, app, environment, hold, { keep: () => true });
    io.stdout(
      commitId
        ? `${heldText(hold, app, environment)} (${commitId.slice(0, 12)})\n`
        : `already held: ${heldText(previous!, app, environment)}\n`,
    );
    return 0;
  },
};

export const releaseCommand: Command = {
  name: ['release'],
  summary: 'release a held environment and roll it out to what the manifest says now',
  usage: 'fjord release <app> <env> [--wait 5m] [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, { config: { type: 'string' }, ...WAIT_OPTION });
    if (positionals.length > 2) throw new UsageError('release takes only the app and the environment');
    const run = prepareManual(positionals[0], positionals[1], values.config, io);
    const [app, environment] = positionals as [string, string];
    const { commitId } = await changeHold(run.ports.store, app, environment, undefined, {
      by: cliUser() ?? 'fjord cli',
    });
    io.stdout(
      commitId ? `${app}/${environment} released (${commitId.slice(0, 12)})\n` : `${app}/${environment} was not held\n`,
    );
    const target = run.ports.config.apps[app]!.environments[environment]!.manifest;
    const tag = readTag((await run.ports.store.read(target.file)).content, target);
    if (!tag) throw new UsageError(`${target.file} names no tag to roll out`);
    return runManual(run, run.build(tag, 'converge'), io, waitMsOf(values.wait));
  },
};

/** `fjord rollback <app> <env> [--to T]`: back to T, or to the previous tag in the manifest history. */
import { FjordError } from '../errors.js';
import { previousTag } from '../worker/previous-tag.js';
import { parse } from './args.js';
import type { Command } from './command.js';
import { dryRun, OVERRIDE_OPTION, prepareManual, runManual, WAIT_OPTION, waitMsOf, withOverride } from './manual-job.js';

export const rollbackCommand: Command = {
  name: ['rollback'],
  summary: 'roll an environment back to the previous tag in the manifest history (or --to T)',
  usage: 'fjord rollback <app> <env> [--to <tag>] [--wait 5m] [--override-freeze "<reason>"] [--dry-run] [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, { to: { type: 'string' }, config: { type: 'string' }, 'dry-run': { type: 'boolean' }, ...WAIT_OPTION, ...OVERRIDE_OPTION });
    const run = withOverride(prepareManual(positionals[0], positionals[1], values.config, io), values['override-freeze']);
    const target = run.ports.config.apps[positionals[0]!]!.environments[positionals[1]!]!.manifest;
    const tag = values.to ?? (await previousTag(run.ports.store, target));
    if (!tag) throw new FjordError(`no earlier tag in the history of ${target.file}; use --to <tag>`);
    const job = run.build(tag, 'rollback');
    return values['dry-run'] ? dryRun(run, job, io) : runManual(run, job, io, waitMsOf(values.wait));
  },
};

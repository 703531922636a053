/** `fjord deploy <app> <env> --tag T`: the worker's pipeline with reason `manual`, run in this process. */
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';
import { dryRun, prepareManual, runManual, WAIT_OPTION, waitMsOf } from './manual-job.js';

export const deployCommand: Command = {
  name: ['deploy'],
  summary: 'deploy a tag to an environment now (same path as a merge, reason manual)',
  usage: 'fjord deploy <app> <env> --tag <tag> [--wait 5m] [--dry-run] [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, { tag: { type: 'string' }, config: { type: 'string' }, 'dry-run': { type: 'boolean' }, ...WAIT_OPTION });
    if (!values.tag) throw new UsageError('--tag is required');
    const run = prepareManual(positionals[0], positionals[1], values.config, io);
    const job = run.build(values.tag, 'manual');
    return values['dry-run'] ? dryRun(run, job, io) : runManual(run, job, io, waitMsOf(values.wait));
  },
};

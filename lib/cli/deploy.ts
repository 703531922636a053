/** `fjord deploy <app> <env> --tag T`: the worker's pipeline with reason `manual`, run in this process. */
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';
import {
  dryRun,
  OVERRIDE_OPTION,
  prepareManual,
  runManual,
  WAIT_OPTION,
  waitMsOf,
  withOverride,
} from './manual-job.js';

export const deployCommand: Command = {
  name: ['deploy'],
  summary: 'deploy a tag to an environment now (same path as a merge, reason manual)',
  usage: 'fjord deploy <app> <env> --tag <tag> [--wait 5m] [--override-freeze "<reason>"] [--dry-run] [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, {
      tag: { type: 'string' },
      config: { type: 'string' },
      'dry-run': { type: 'boolean' },
      ...WAIT_OPTION,
      ...OVERRIDE_OPTION,
    });
    if (!values.tag) throw new UsageError('--tag is required');
    const run = withOverride(
      prepareManual(positionals[0], positionals[1], values.config, io),
      values['override-freeze'],
    );
    const job = run.build(values.tag, 'manual');
    return values['dry-run'] ? dryRun(run, job, io) : runManual(run, job, io, waitMsOf(values.wait));
  },
};

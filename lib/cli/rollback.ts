/**
 * `fjord rollback <app> <env> [--to T]`: back to T, or to the previous tag in the manifest history. The
 * environment is held first (lib/holds), so no merge rolls forward again until `fjord release`.
 */
import { FjordError } from '../errors.js';
import { previousTag } from '../worker/previous-tag.js';
import { changeHold } from '../holds/write-hold.js';
import { parse } from './args.js';
import type { Command } from './command.js';
import {
  dryRun,
  OVERRIDE_OPTION,
  prepareManual,
  runManual,
  WAIT_OPTION,
  waitMsOf,
  withOverride,
} from './manual-job.js';

export const rollbackCommand: Command = {
  name: ['rollback'],
  summary: 'roll an environment back to the previous tag in the manifest history (or --to T)',
  usage:
    'fjord rollback <app> <env> [--to <tag>] [--reason <text>] [--wait 5m] [--override-freeze "<reason>"] [--dry-run] [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, {
      to: { type: 'string' },
      reason: { type: 'string' },
      config: { type: 'string' },
      'dry-run': { type: 'boolean' },
      ...WAIT_OPTION,
      ...OVERRIDE_OPTION,
    });
    const run = withOverride(
      prepareManual(positionals[0], positionals[1], values.config, io),
      values['override-freeze'],
    );
    const target = run.ports.config.apps[positionals[0]!]!.environments[positionals[1]!]!.manifest;
    const tag = values.to ?? (await previousTag(run.ports.store, target));
    if (!tag) throw new FjordError(`no earlier tag in the history of ${target.file}; use --to <tag>`);
    const job = run.build(tag, 'rollback');
    if (values['dry-run']) return dryRun(run, job, io);
    // Held before the rollback commit: no merge can roll forward in between (a rollback is a person's order, never held).
    const reason = values.reason ?? `fjord rollback to ${tag}`;
    await changeHold(
      run.ports.store,
      job.app,
      job.environment,
      { since: job.enqueuedAt, by: job.source.author ?? 'fjord cli', reason },
      { keep: () => true },
    );
    return runManual(run, job, io, waitMsOf(values.wait));
  },
};

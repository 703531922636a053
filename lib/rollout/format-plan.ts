/**
 * `--dry-run`: the exact commands per host, batch by batch, without connecting. Commands that depend on
 * the host's state are shown for a host that already runs the app (the usual case) and marked.
 */
import { joinArgv } from '../ssh/quote.js';
import { dockerInspectState } from './docker-commands.js';
import { healthProbe } from './health-commands.js';
import { deployCommands, inspectCommand } from './host-commands.js';
import type { HostTarget } from './host-command-types.js';
import { planBatches } from './plan-batches.js';
import { acquireLock, readBefore, recordBefore, releaseLock } from './state-commands.js';
import type { RolloutInput } from './types.js';

export function formatRolloutPlan(
  input: RolloutInput,
  options: { stateDir: string; lockStaleAfterMs: number },
): string {
  const r = input.env.rollout;
  const target: HostTarget = {
    app: input.app,
    environment: input.environment,
    jobId: input.jobId,
    image: input.image,
    tag: input.tag,
    rollout: r,
    stateDir: options.stateDir,
  };
  // The owner file's text is made at run time (token, time): shown as a placeholder.
  const owner = '<owner: token, job, app, environment, this machine, time>';
  const commands = deployCommands(target, { ref: '<running image>', state: 'running', labels: {} });
  const fresh = new Set(
    deployCommands(target, undefined)
      .before.concat(deployCommands(target, undefined).after)
      .map((c) => joinArgv(c.argv)),
  );
  const line = (step: string, argv: string[], note = '') => `    ${step.padEnd(8)} ${joinArgv(argv)}${note}`;
  const body = [
    line('lock', acquireLock(options.stateDir, owner, options.lockStaleAfterMs, input.jobId)),
    line('inspect', inspectCommand(target)),
    line(
      'inspect',
      readBefore(options.stateDir, input.app, input.environment),
      '   # what ran before an earlier delivery of this job',
    ),
    line(
      'inspect',
      recordBefore(options.stateDir, input.app, input.environment, input.jobId, '<running image>'),
      '   # kept for a redelivery of this job',
    ),
    ...commands.before.map((c) =>
      line(c.step, c.argv, fresh.has(joinArgv(c.argv)) ? '' : '   # only when a container runs'),
    ),
    ...(commands.started
      ? [
          line(
            'start',
            dockerInspectState(commands.started),
            `   # ${r.container.settle} ms after start: running, not restarting, restart count 0${r.healthCheck ? '; again after the health check' : ''}`,
          ),
        ]
      : []),
    ...(r.healthCheck
      ? [
          line(
            'health',
            healthProbe(r.healthCheck),
            `   # every ${r.healthCheck.interval} ms, up to ${r.healthCheck.timeout} ms${(r.healthCheck.successes ?? 1) > 1 ? `, until ${r.healthCheck.successes} pass in a row` : ''}`,
          ),
        ]
      : []),
    ...commands.after.map((c) =>
      line(c.step, c.argv, fresh.has(joinArgv(c.argv)) ? '' : '   # only when a container runs'),
    ),
    line('unlock', releaseLock(options.stateDir, '<token>')),
  ];
  const batches = planBatches(input.hosts, r.batchSize, r.canary);
  const out = [
    `rollout ${input.app}/${input.environment} → ${input.image}:${input.tag} (strategy ${r.strategy}, ${batches.length} batch${batches.length === 1 ? '' : 'es'}, host timeout ${r.hostTimeout} ms)`,
  ];
  for (const [i, batch] of batches.entries()) {
    out.push(`batch ${i + 1}${r.canary && i === 0 ? ' (canary)' : ''}: ${batch.join(', ')}`);
    for (const host of batch) out.push(`  ${host}:`, ...body);
  }
  out.push('on failure: every changed host is rolled back with the same commands for the image it ran before');
  return out.join('\n') + '\n';
}

/**
 * A `/fjord` comment on an MR/PR (issue 14, item 4) → one `command` job for the app whose source project it
 * is, in the queue group of the environment it names (so it runs between, never during, that environment's
 * deploys). Every value is held to its grammar here; a command that does not parse, or names an environment
 * fjord.yaml does not have, still becomes a job — whose answer is help — so the commenter gets a reply and the
 * webhook never a 4xx. The job id is derived from provider, project and comment id: a redelivery is a
 * duplicate in the queue (lib/job.ts KEYED_REASONS).
 */
import { createHash } from 'node:crypto';
import { InvalidEvent } from '../errors.js';
import { SHA } from '../grammar.js';
import type { DeployJob } from '../job.js';
import { USERNAME, type CommandOrder } from '../commands/command-schema.js';
import { parseCommand } from '../commands/parse-command.js';
import { quote } from './event.js';
import type { Route } from './route-types.js';

export const commandJobId = (provider: string, project: string, noteId: number): string =>
  `cmd-${createHash('sha256').update(`${provider}\n${project.toLowerCase()}\n${noteId}`).digest('hex').slice(0, 40)}`;

export const routeCommand: Route = (event, ctx) => {
  if (event.trigger !== 'command' || !event.command) return { ignored: '' };
  const c = event.command;
  const apps = Object.entries(ctx.config.apps).filter(
    ([, a]) => a.source.provider === event.provider && a.source.project.toLowerCase() === event.project.toLowerCase(),
  );
  if (apps.length === 0) return { ignored: `no app deploys ${event.provider} project ${quote(event.project)}` };
  if (event.mr === undefined)
    throw new InvalidEvent(event.paths.mr ?? 'mr', 'missing: the merge request to answer is unknown');
  if (!USERNAME.test(c.username))
    throw new InvalidEvent(event.paths.author ?? 'user', `${quote(c.username)} is not a user name`);
  const discussion = c.discussionId && /^[0-9a-f]{8,64}$/.test(c.discussionId) ? c.discussionId : undefined;
  let parsed = parseCommand(c.text);
  // The app that has the named environment (the first app of the project when none is named).
  const named = parsed.environment;
  const found = named === undefined ? apps[0] : apps.find(([, a]) => named in a.environments);
  if (!found)
    parsed = {
      verb: 'help',
      problem: `no environment ${quote(named!)} for ${event.project} in fjord.yaml (${apps.flatMap(([, a]) => Object.keys(a.environments)).join(', ')})`,
    };
  const [appName, app] = found ?? apps[0]!;
  const environment = parsed.environment ?? Object.keys(app.environments)[0]!;
  const command: CommandOrder = {
    ...parsed,
    user: { id: c.userId, username: c.username },
    note: { id: c.noteId, ...(discussion ? { discussion } : {}) },
  };
  const job: DeployJob = {
    v: 1,
    id: commandJobId(event.provider, event.project, c.noteId),
    app: appName,
    environment,
    image: app.image,
    // A command deploys no tag of its own: `deploy` and `rollback` work theirs out in the worker.
    tag: parsed.tag ?? 'command',
    ...(event.sha && SHA.test(event.sha) ? { sha: event.sha } : {}),
    reason: 'command',
    source: {
      provider: event.provider,
      project: app.source.project,
      mr: event.mr,
      author: c.username,
      deliveryId: ctx.deliveryId,
    },
    enqueuedAt: new Date(ctx.now()).toISOString(),
    command,
  };
  return { jobs: [job] };
};

/** `fjord queue ls [--dead]`: the embedded queue's jobs as JSON lines, read without locking the queue. */
import { localQueueDir, readLocalQueue } from '../queue/read-local.js';
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';

export const queueLs: Command = {
  name: ['queue', 'ls'],
  summary: 'list queued jobs (or dead letters) of the embedded queue as JSON lines',
  usage: 'fjord queue ls [--dead]',
  async run(args, io) {
    const { values, positionals } = parse(args, { dead: { type: 'boolean', default: false } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const view = await readLocalQueue(localQueueDir(io.env, io.cwd));
    if (values.dead) {
      for (const d of view.listDead())
        io.stdout(
          JSON.stringify({ messageId: d.messageId, group: d.group, state: 'dead', attempts: d.attempts, job: d.job }) +
            '\n',
        );
    } else {
      for (const e of view.list()) io.stdout(JSON.stringify(e) + '\n');
    }
    return 0;
  },
};

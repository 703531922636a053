/** `fjord <command>`: dispatch to the command whose words match, `--help` for the list. */
import { FjordError } from '../errors.js';
import { UsageError, type CliIo, type Command } from './command.js';
import { commands } from './commands.js';

function help(io: CliIo): void {
  io.stdout('fjord — GitOps deploy relay: merged MR → manifest commit → SSH rollout\n\nUsage:\n');
  const width = Math.max(...commands.map((c) => c.usage.length));
  for (const c of commands) io.stdout(`  ${c.usage.padEnd(width)}  ${c.summary}\n`);
  io.stdout('\nConfiguration: FJORD_CONFIG, else ./fjord.yaml, else examples/fjord.yaml.\n');
}

function find(args: string[]): { command: Command; rest: string[] } | undefined {
  const matches = commands.filter((c) => c.name.every((word, i) => args[i] === word));
  const best = matches.sort((a, b) => b.name.length - a.name.length)[0];
  return best && { command: best, rest: args.slice(best.name.length) };
}

export async function main(args: string[], io: CliIo): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    help(io);
    return 0;
  }
  const found = find(args);
  if (!found) {
    io.stderr(`fjord: unknown command "${args.join(' ')}"; see fjord --help\n`);
    return 2;
  }
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    io.stdout(`Usage: ${found.command.usage}\n  ${found.command.summary}\n`);
    return 0;
  }
  try {
    return await found.command.run(found.rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`fjord: ${err.message}\nUsage: ${found.command.usage}\n`);
      return 2;
    }
    if (err instanceof FjordError) {
      io.stderr(`fjord: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

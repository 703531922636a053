/** The shape of one `fjord` subcommand. Commands write through `io`, so tests run them in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** All of standard input (`fjord secrets set … KEY` reads a value from it, so it is not in argv). */
  stdin?(): Promise<string>;
}

export interface Command {
  /** Words that select it: `['config', 'check']`. */
  name: string[];
  summary: string;
  usage: string;
  /** Returns the exit code; long-running commands (start, worker) resolve when they stop. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Thrown for bad command-line usage: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

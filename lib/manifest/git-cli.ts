/**
 * Runs the `git` CLI: argv arrays only (never a shell), no terminal prompts, bounded time. A non-zero exit
 * becomes `GitCommandFailed` with the exit code and the tail of stderr; the arguments are not put in the
 * message, since a repository URL may carry credentials.
 */
import { spawn } from 'node:child_process';
import { ManifestStoreError } from './store-errors.js';

export class GitCommandFailed extends ManifestStoreError {
  constructor(
    readonly subcommand: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(
      `git ${subcommand} failed (${exitCode === null ? 'killed' : `exit ${exitCode}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
}

export interface GitOptions {
  cwd?: string;
  /** Added to the environment (author identity, GIT_INDEX_FILE). */
  env?: Record<string, string>;
  input?: string | Buffer;
  timeoutMs?: number;
}

const BASE_ENV = {
  GIT_TERMINAL_PROMPT: '0', // never wait for a password on a worker
  GIT_CONFIG_NOSYSTEM: '1',
  LC_ALL: 'C', // stable messages and porcelain output
};

/** The subcommand of an argv (`fetch` in `-c a=b --literal-pathspecs fetch …`), for messages. */
function subcommandOf(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c' || args[i] === '-C') i++;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return '';
}

/** Runs `git …args` and resolves with stdout as a Buffer; rejects with `GitCommandFailed`. */
export function gitBuffer(args: string[], { cwd, env, input, timeoutMs = 60_000 }: GitOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: { ...process.env, ...BASE_ENV, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e) => reject(new ManifestStoreError(`cannot run git: ${e.message}`)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      if (code === 0) resolve(stdout);
      else
        reject(
          new GitCommandFailed(subcommandOf(args), code, Buffer.concat(err).toString('utf8'), stdout.toString('utf8')),
        );
    });
    child.stdin.on('error', () => {}); // git may exit before reading stdin; the exit code tells
    child.stdin.end(input ?? '');
  });
}

/** Runs `git …args` and resolves with stdout as UTF-8 text. */
export async function git(args: string[], options?: GitOptions): Promise<string> {
  return (await gitBuffer(args, options)).toString('utf8');
}

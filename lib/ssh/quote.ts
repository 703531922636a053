/**
 * POSIX shell quoting. SSH carries one command string, which the remote user's shell parses; the runner
 * alone turns an argv array into that string, so no builder ever writes shell syntax. Inside single
 * quotes every byte is literal except `'` itself, written as `'\''` (close, escaped quote, reopen).
 */
import { UnsafeArgument } from './unsafe-argument.js';

// Words made only of these need no quotes in any POSIX shell position (no globbing, tilde, comment,
// assignment or expansion characters). `=` is left out: an unquoted first word `A=b` is an assignment.
const SAFE = /^[A-Za-z0-9_/.,:@%+-]+$/;

// Reserved words are only special as the first word; quoting them makes the shell look up a command.
const RESERVED = new Set([
  '!',
  '{',
  '}',
  '[[',
  ']]',
  'case',
  'coproc',
  'do',
  'done',
  'elif',
  'else',
  'esac',
  'fi',
  'for',
  'function',
  'if',
  'in',
  'select',
  'then',
  'time',
  'until',
  'while',
]);

/** One argument as a shell word that the remote shell turns back into exactly `arg`. */
export function quote(arg: string): string {
  if (typeof arg !== 'string') throw new UnsafeArgument(`argument is not a string: ${typeof arg}`);
  // A C string ends at NUL: the remote side would silently see a shorter argument.
  if (arg.includes('\0')) throw new UnsafeArgument('argument contains a NUL byte');
  if (SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** argv as one command string: every word quoted, the first never a reserved word. */
export function joinArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new UnsafeArgument('empty argv');
  return argv.map((arg, i) => (i === 0 && RESERVED.has(arg) ? `'${arg}'` : quote(arg))).join(' ');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `NAME='value' … argv…`: environment for this one command, as assignments the shell applies to it.
 * sshd accepts only `AcceptEnv` names through the protocol, so assignments are the portable way.
 */
export function commandLine(argv: readonly string[], env: Readonly<Record<string, string>> = {}): string {
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new UnsafeArgument(`not an environment variable name: ${JSON.stringify(name)}`);
    return `${name}=${quote(value)}`;
  });
  return [...assignments, joinArgv(argv)].join(' ');
}

/**
 * The SSH runner's named errors. ssh2 and socket failures are turned into these at the edge (the runner),
 * so nothing above it reads ssh2's text. Messages never carry secrets: argv and stderr are scrubbed of
 * every known `Secret`, and keys or passphrases are never part of a message.
 */
import { FjordError } from '../errors.js';
import { scrub } from '../secret.js';
import { joinArgv } from './quote.js';

/** The host could not be reached: refused, no route, or the connect deadline passed. */
export class HostUnreachable extends FjordError {
  override status = 502;
  constructor(
    readonly host: string,
    readonly address: string,
    readonly port: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`host ${host} (${address}:${port}) unreachable: ${reason}`, options);
  }
}

/**
 * The host presented a key other than the pinned one (or none is pinned): nothing was run. `keyType` is
 * the presented key's type: the pin must be the fingerprint of that key (ssh2 asks for ed25519 first).
 */
export class HostKeyMismatch extends FjordError {
  override status = 502;
  constructor(
    readonly host: string,
    readonly expected: string,
    readonly actual: string,
    readonly keyType?: string,
  ) {
    super(
      `host ${host}: host key mismatch, expected ${expected}, got ${actual}${keyType ? ` (${keyType})` : ''}; refusing to connect (nothing was run)`,
    );
  }
}

/** The host accepted the TCP connection but the SSH handshake failed (no common algorithm, protocol error). */
export class HandshakeFailed extends FjordError {
  override status = 502;
  constructor(
    readonly host: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`host ${host}: SSH handshake failed: ${reason}`, options);
  }
}

/** The host refused every offered credential, or the private key could not be read. */
export class AuthFailed extends FjordError {
  override status = 502;
  constructor(
    readonly host: string,
    readonly user: string,
    readonly reason: string,
  ) {
    super(`host ${host}: authentication as ${user} failed: ${reason}`);
  }
}

/** The connection dropped (or was closed) while a command was running or about to run. */
export class ConnectionLost extends FjordError {
  override status = 502;
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`host ${host}: connection lost: ${reason}`);
  }
}

/**
 * Last `max` characters of `text`, scrubbed of secrets, never starting mid-word: on a line boundary when
 * one is near the cut, else after the next whitespace.
 */
export function tail(text: string, max = 2000): string {
  const trimmed = text.trimEnd();
  if (trimmed.length <= max) return scrub(trimmed);
  const cut = trimmed.slice(-max);
  // The character before the cut decides: a cut right after a newline or a space is already a boundary.
  if (/\s/.test(trimmed[trimmed.length - max - 1]!)) return scrub(cut);
  const nl = cut.indexOf('\n');
  if (nl >= 0 && nl < 200) return scrub(cut.slice(nl + 1));
  const space = cut.search(/\s/);
  return scrub(space >= 0 && space < 200 ? cut.slice(space + 1) : `…${cut}`);
}

// What the Docker CLI prints around the engine's error: its hint (`See 'docker run --help'.` in 20.10,
// `Run 'docker run --help' for more information` in 28) and the forwarding warning of every `run` on an
// engine without IP forwarding. Neither says what went wrong (shared/REAL-FLEET.md).
const NOISE = [
  /^See '[^']*--help'\.?$/,
  /^Run '[^']*--help' for more information\.?$/,
  /^WARNING: IPv4 forwarding is disabled/,
];

/** The line of stderr that says what failed: the last one that is not a CLI hint or warning. */
export function errorLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return [...lines].reverse().find((l) => !NOISE.some((re) => re.test(l))) ?? lines.at(-1) ?? '';
}

// `docker run -e NAME=value`, `--env NAME=value`, `--env=NAME=value`, `-eNAME=value`: the container's env.
const ENV_FLAG = new Set(['-e', '--env']);
const ENV_INLINE = /^(--env=|-e)([A-Za-z_][A-Za-z0-9_]*=)./s;

/**
 * argv as errors keep and show it: the value of every environment flag (`container.env`, which may hold
 * credentials fjord never sees as a `Secret`) replaced by `[redacted]`, and every known secret scrubbed.
 */
export function shownArgv(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    const eq = arg.indexOf('=');
    if (i > 0 && ENV_FLAG.has(argv[i - 1]!) && eq > 0) return `${arg.slice(0, eq + 1)}[redacted]`;
    const inline = ENV_INLINE.exec(arg);
    return inline ? `${inline[1]}${inline[2]}[redacted]` : scrub(arg);
  });
}

/** A command ran and exited non-zero. `step` names the rollout step (`pull`, `start`, …) when known. */
export class CommandFailed extends FjordError {
  override status = 502;
  readonly stderrTail: string;
  /** The command, as `shownArgv` shows it. */
  readonly argv: string[];
  constructor(
    readonly host: string,
    argv: string[],
    readonly exitCode: number,
    stderr: string,
    readonly step?: string,
  ) {
    const stderrTail = tail(stderr);
    const shown = shownArgv(argv);
    super(
      scrub(
        `host ${host}: ${step ? `step ${step}: ` : ''}\`${joinArgv(shown)}\` exited ${exitCode}${stderrTail ? `: ${errorLine(stderrTail)}` : ''}`,
      ),
    );
    this.stderrTail = stderrTail;
    this.argv = shown;
  }
}

/** A command ran past its deadline; the runner killed it on the host. */
export class CommandTimeout extends FjordError {
  override status = 504;
  /** The command, as `shownArgv` shows it. */
  readonly argv: string[];
  constructor(
    readonly host: string,
    argv: string[],
    readonly timeoutMs: number,
    readonly step?: string,
  ) {
    const shown = shownArgv(argv);
    super(
      scrub(
        `host ${host}: ${step ? `step ${step}: ` : ''}\`${joinArgv(shown)}\` timed out after ${timeoutMs} ms and was killed`,
      ),
    );
    this.argv = shown;
  }
}

/** `Fleet.session(name)` for a host the fleet does not know. */
export class UnknownHost extends FjordError {
  constructor(readonly host: string) {
    super(`unknown host "${host}"`);
  }
}

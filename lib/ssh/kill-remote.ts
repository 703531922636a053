/**
 * Killing a command that ran past its deadline. Closing the channel is not enough: sshd leaves a
 * non-tty command running when its channel closes. Two ways, both used:
 *  1. the SSH `signal` request (RFC 4254 §6.9): OpenSSH answers it with killpg() on the command's process
 *     group, but refuses it for root logins (no privilege-separated child) and forced commands;
 *  2. every command carries a marker variable in its environment (`FJORD_RUN=<random>`), inherited by
 *     its children; a second channel kills every process whose environment holds it (Linux /proc).
 */
import { randomBytes } from 'node:crypto';
import type { Channel } from 'ssh2';

export const MARKER_VAR = 'FJORD_RUN';

/** A fresh marker value for one command. */
export function newMarker(): string {
  return randomBytes(9).toString('hex');
}

/**
 * Shell text that kills the processes carrying `marker`. grep reads /proc/<pid>/environ NUL-separated;
 * its own environment lacks the marker (it is only in this script's text), so it never matches itself.
 * Two passes catch a child forked while the first pass ran.
 */
export function killByMarkerScript(marker: string): string {
  if (!/^[0-9a-f]{6,64}$/.test(marker)) throw new Error('bad marker');
  const find = `grep -lsxzF '${MARKER_VAR}=${marker}' /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3`;
  return `for pass in 1 2; do pids=$(${find}); [ -n "$pids" ] && kill -KILL $pids 2>/dev/null; done; true`;
}

/**
 * Sends a `signal` request. ssh2's `Channel.signal()` refuses once our side sent EOF (stdin closed),
 * although the protocol allows it while the channel is open; so this goes through the protocol object.
 */
export function sendSignal(channel: Channel, name: 'KILL' | 'TERM'): void {
  const c = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?(id: number, s: string): void } };
  };
  const id = c.outgoing?.id;
  const state = c.outgoing?.state;
  if (id === undefined || (state !== 'open' && state !== 'eof')) return;
  try {
    c._client?._protocol?.signal?.(id, name);
  } catch {
    // The connection is already gone: nothing left to signal through.
  }
}

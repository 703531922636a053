/** An authenticated ssh2 connection wrapped as an `SshSession`: quoting, deadlines, named errors. */
import { performance } from 'node:perf_hooks';
import type { Client } from 'ssh2';
import { CommandFailed, CommandTimeout, ConnectionLost } from './errors.js';
import { execOnChannel } from './exec-channel.js';
import { killByMarkerScript, MARKER_VAR, newMarker } from './kill-remote.js';
import { commandLine } from './quote.js';
import type { ExecOptions, ExecResult, SshHost, SshOptions, SshSession } from './types.js';

const KILL_TIMEOUT_MS = 5_000;
// sshd frees a finished channel's session slot a moment after our CLOSE reaches it, so a new channel
// right behind can still be refused ("no more sessions"); a short retry covers that and other clients.
const OPEN_RETRIES = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A counting semaphore: at most `size` channels open at once (sshd refuses more than MaxSessions). */
function slots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    async acquire() {
      if (free > 0) return void free--;
      await new Promise<void>((r) => waiting.push(r));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

export function createSession(client: Client, host: SshHost, options: SshOptions, connectMs: number): SshSession {
  let closed = false;
  let closeReason = 'the session was closed';
  const limit = slots(options.maxChannels ?? 6);
  client.on('close', () => {
    if (!closed) closeReason = 'the connection closed';
    closed = true;
  });
  client.on('error', () => {
    closeReason = 'the connection failed';
  });

  async function exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const marker = newMarker();
    // Built (and validated) before anything is sent.
    const command = commandLine(argv, { ...opts.env, [MARKER_VAR]: marker });
    const timeoutMs = opts.timeoutMs ?? options.commandTimeoutMs;
    if (closed) throw new ConnectionLost(host.name, closeReason);
    await limit.acquire();
    const started = performance.now();
    try {
      let outcome = await execOnChannel(client, command, timeoutMs, opts.stdin);
      for (let attempt = 1; outcome.kind === 'refused' && attempt <= OPEN_RETRIES && !closed; attempt++) {
        await sleep(10 * attempt);
        outcome = await execOnChannel(client, command, timeoutMs, opts.stdin);
      }
      if (outcome.kind === 'refused')
        throw new ConnectionLost(host.name, closed ? closeReason : 'the host refused to open a channel');
      if (outcome.kind === 'timeout') {
        if (!closed) await execOnChannel(client, killByMarkerScript(marker), KILL_TIMEOUT_MS);
        throw new CommandTimeout(host.name, [...argv], timeoutMs, opts.step);
      }
      if (outcome.kind === 'lost') throw new ConnectionLost(host.name, closed ? closeReason : outcome.reason);
      const { kind: _, ...result } = outcome;
      return { ...result, durationMs: performance.now() - started };
    } finally {
      limit.release();
    }
  }

  return {
    host,
    connectMs,
    get closed() {
      return closed;
    },
    exec,
    async run(argv, opts = {}) {
      const result = await exec(argv, opts);
      if (result.exitCode !== 0)
        throw new CommandFailed(host.name, [...argv], result.exitCode, result.stderr, opts.step);
      return result;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      closeReason = 'the session was closed';
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          client.destroy();
          resolve();
        }, 2_000);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        client.end();
      });
    },
  };
}

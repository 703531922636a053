/** One command on one exec channel: collect stdout/stderr and the exit status, enforce the deadline. */
import { constants } from 'node:os';
import type { Channel, Client } from 'ssh2';
import { sendSignal } from './kill-remote.js';

/** Output kept per stream; more is dropped (a deploy step printing more than this is misbehaving). */
const MAX_OUTPUT = 16 * 1024 * 1024;

export type ChannelOutcome =
  | { kind: 'exit'; exitCode: number; signal?: string; stdout: string; stderr: string }
  | { kind: 'timeout' }
  /** The host refused to open the channel (sshd's MaxSessions): worth a retry. */
  | { kind: 'refused' }
  | { kind: 'lost'; reason: string };

function collector() {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk: Buffer) {
      if (size >= MAX_OUTPUT) return;
      chunks.push(chunk);
      size += chunk.length;
    },
    // Decode once at the end, so a multi-byte character split across packets stays whole.
    text: () => Buffer.concat(chunks).subarray(0, MAX_OUTPUT).toString('utf8'),
  };
}

function signalExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[`SIG${signal}`];
  return 128 + (n ?? 0);
}

/**
 * Opens a channel, runs `command`, resolves with what happened. Never rejects. On timeout the channel
 * is signalled and closed right away; killing the remote process tree is the caller's second step.
 */
export function execOnChannel(
  client: Client,
  command: string,
  timeoutMs: number,
  stdin?: string | Buffer,
): Promise<ChannelOutcome> {
  return new Promise((resolve) => {
    let done = false;
    let channel: Channel | undefined;
    const finish = (outcome: ChannelOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      if (channel) {
        sendSignal(channel, 'KILL');
        channel.close();
      }
      finish({ kind: 'timeout' });
    }, timeoutMs);
    try {
      client.exec(command, (err, ch) => {
        if (err) return finish({ kind: 'refused' });
        if (done) return void ch.close(); // timed out while the channel was opening
        channel = ch;
        const out = collector();
        const errOut = collector();
        let exit: { code?: number | null; signal?: string } | undefined;
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errOut.push(d));
        ch.on('exit', (code: number | null, signal?: string) => (exit = { code, signal }));
        ch.on('close', () => {
          if (!exit) return finish({ kind: 'lost', reason: 'the channel closed without an exit status' });
          const signal = exit.signal ?? undefined;
          const exitCode = typeof exit.code === 'number' ? exit.code : signal ? signalExitCode(signal) : 255;
          finish({ kind: 'exit', exitCode, ...(signal ? { signal } : {}), stdout: out.text(), stderr: errOut.text() });
        });
        ch.on('error', () => undefined); // surfaced through 'close' without an exit status
        if (stdin !== undefined) ch.end(stdin);
        else ch.end();
      });
    } catch {
      finish({ kind: 'lost', reason: 'not connected' });
    }
  });
}

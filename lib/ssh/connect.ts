/**
 * Opens one SSH connection to a host: our own TCP socket with Nagle off (ssh2 leaves it on: ~50 ms per
 * command instead of ~5 ms, DESIGN.md), curve25519 key exchange first, the host key checked against its
 * pin before authentication, and every failure turned into a named error.
 */
import { connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client, type ConnectConfig } from 'ssh2';
import { KEX } from './algorithms.js';
import { AuthFailed, HandshakeFailed, HostKeyMismatch, HostUnreachable } from './errors.js';
import { fingerprint, keyType, normalizePin } from './fingerprint.js';
import { createSession } from './session.js';
import type { SshAuth, SshHost, SshOptions, SshSession } from './types.js';

const SOCKET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'address not found',
  EAI_AGAIN: 'address lookup failed',
};

/** Connects and authenticates; resolves with a session that runs commands on this one connection. */
export function connect(host: SshHost, auth: SshAuth, options: SshOptions): Promise<SshSession> {
  const pin = normalizePin(host.hostKey);
  // No trust on first use: without a pin there is nothing to compare the presented key with.
  if (!pin)
    return Promise.reject(
      new HostKeyMismatch(
        host.name,
        host.hostKey || '(no pinned key)',
        '(not checked: the pin is not SHA256:<base64>)',
      ),
    );
  const unreachable = (reason: string, cause?: unknown) =>
    new HostUnreachable(host.name, host.address, host.port, reason, { cause });

  return new Promise((resolve, reject) => {
    const started = performance.now();
    const client = new Client();
    let settled = false;
    let tcpUp = false;
    // After key exchange only authentication is left: a disconnect then (sshd's MaxAuthTries with many
    // agent keys) is an authentication failure, not a protocol one.
    let keysExchanged = false;
    let presented: { fingerprint: string; type: string } | undefined;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.destroy();
      sock.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          unreachable(
            `no answer within ${options.connectTimeoutMs} ms${tcpUp ? ' (TCP connected, SSH handshake did not finish)' : ''}`,
          ),
        ),
      options.connectTimeoutMs,
    );
    const sock = tcpConnect({ host: host.address, port: host.port, noDelay: true });
    sock.setNoDelay(true);
    sock.once('connect', () => (tcpUp = true));
    // ssh2 also reports socket errors as client errors; this listener keeps an early one from being unhandled.
    sock.on('error', () => undefined);

    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (presented !== undefined)
        return fail(new HostKeyMismatch(host.name, pin, presented.fingerprint, presented.type));
      if (err.level === 'client-authentication')
        return fail(new AuthFailed(host.name, host.user, 'the host accepted none of the offered keys'));
      if (err.level === 'client-socket')
        return fail(unreachable(SOCKET_REASONS[err.code ?? ''] ?? `socket error ${err.code ?? ''}`.trim(), err));
      if (err.level === 'client-timeout') return fail(unreachable('keepalive timed out', err));
      if (keysExchanged)
        return fail(new AuthFailed(host.name, host.user, 'the host ended the connection during authentication'));
      fail(
        tcpUp
          ? new HandshakeFailed(host.name, `protocol error (${err.level ?? 'unknown'})`, { cause: err })
          : unreachable('connection failed', err),
      );
    });
    client.once('handshake', () => (keysExchanged = true));
    client.once('close', () => {
      if (keysExchanged)
        fail(new AuthFailed(host.name, host.user, 'the host ended the connection during authentication'));
      else
        fail(
          tcpUp
            ? new HandshakeFailed(host.name, 'the host closed the connection during the handshake')
            : unreachable('connection closed'),
        );
    });
    client.once('ready', () => {
      if (settled) return void client.destroy();
      settled = true;
      clearTimeout(timer);
      resolve(createSession(client, host, options, performance.now() - started));
    });

    const config: ConnectConfig = {
      sock,
      username: host.user,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: options.keepaliveMs ?? 15_000,
      keepaliveCountMax: 3,
      algorithms: { kex: KEX },
      hostVerifier: (key: Buffer) => {
        const actual = fingerprint(key);
        if (actual === pin) return true;
        presented = { fingerprint: actual, type: keyType(key) };
        return false;
      },
      ...(auth.privateKey ? { privateKey: auth.privateKey.reveal() } : {}),
      ...(auth.passphrase ? { passphrase: auth.passphrase.reveal() } : {}),
      ...(auth.agent ? { agent: auth.agent } : {}),
    };
    try {
      client.connect(config);
    } catch {
      // ssh2 parses the key synchronously; its message is dropped so no key detail can leak.
      fail(
        new AuthFailed(
          host.name,
          host.user,
          'the private key could not be read (not a private key, or a wrong or missing passphrase)',
        ),
      );
    }
  });
}

/**
 * The `Fleet` port the rollout engine receives (STYLE.md "Ports, not globals"): one lazily opened,
 * reused session per host, all closed together. Tests hand in a fleet of real local sshd processes.
 */
import { connect } from './connect.js';
import { UnknownHost } from './errors.js';
import type { SshAuth, SshHost, SshOptions, SshSession } from './types.js';

export interface Fleet {
  readonly hosts: readonly SshHost[];
  /** The host's session, connecting on first use (and again after its connection was lost). */
  session(hostName: string): Promise<SshSession>;
  /** Closes every open session. */
  close(): Promise<void>;
}

export function openFleet(hosts: readonly SshHost[], auth: SshAuth, options: SshOptions, open = connect): Fleet {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const sessions = new Map<string, Promise<SshSession>>();

  return {
    hosts,
    async session(hostName) {
      const host = byName.get(hostName);
      if (!host) throw new UnknownHost(hostName);
      const cached = sessions.get(hostName);
      if (cached) {
        const session = await cached.catch(() => undefined);
        if (session && !session.closed) return session;
        if (sessions.get(hostName) !== cached) return this.session(hostName); // another caller reconnected
      }
      const pending = open(host, auth, options);
      sessions.set(hostName, pending);
      // A failed connect is not cached: the next call tries again.
      pending.catch(() => sessions.get(hostName) === pending && sessions.delete(hostName));
      return pending;
    },
    async close() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(
        all.map((p) =>
          p.then(
            (s) => s.close(),
            () => undefined,
          ),
        ),
      );
    },
  };
}

/**
 * The floor's SSH: a bare ssh2 `Client` per host (default settings, key auth), one exec at a time, no
 * timeouts or error mapping of its own — the least a deploy script needs. Used by `rollout-floor.ts`.
 */
import { Client } from 'ssh2';
import type { FleetHost } from '../test/fixtures/fleet.js';

export interface FloorClient {
  /** Runs `script`; rejects unless it exits 0 (with the tail of its stderr). */
  exec(script: string): Promise<void>;
  end(): void;
}

/** Connects to `host`; resolves once the session is ready. */
export function connectFloor(host: FleetHost, privateKey: string): Promise<FloorClient> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('error', reject);
    client.once('ready', () =>
      resolve({ exec: (script) => execOnce(client, host.name, script), end: () => client.end() }),
    );
    client.connect({ host: host.address, port: host.port, username: host.user, privateKey });
  });
}

function execOnce(client: Client, host: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.exec(script, (err, stream) => {
      if (err) return reject(err);
      let stderr = '';
      stream.on('data', () => undefined);
      stream.stderr.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-2000)));
      stream.on('close', (code: number | null) =>
        code === 0 ? resolve() : reject(new Error(`floor on ${host}: exit ${code}: ${stderr.slice(-500)}`)),
      );
    });
  });
}

/** The bound of fjord's pre-pull, the same function. */
export { eachLimited } from '../lib/rollout/each-limited.js';

// Two test runs on one machine (two clones, two `npm test`) each start fleets: every fleet claims its own
// loopback range, so the same fixed container port on "web-1" of both fleets does not collide.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort } from '../fixtures/sshd.js';

const CHILD = fileURLToPath(new URL('../fixtures/fleet-child.ts', import.meta.url));

interface ChildReport {
  addresses: string[];
  runs: Array<{ host: string; exitCode: number; stderr: string }>;
}

/** Starts a fleet of `hosts` in a separate node process; resolves with its report once its containers run. */
function fleetProcess(hosts: number, port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, String(hosts), String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const report = new Promise<ChildReport>((resolve, reject) => {
    child.stdout!.on('data', () => out.includes('\n') && resolve(JSON.parse(out.split('\n')[0]!) as ChildReport));
    child.once('exit', (code) => reject(new Error(`fleet process exited ${code} before reporting: ${out}`)));
  });
  return {
    report,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin!.end();
      await exited;
    },
  };
}

describe('fleet slots', () => {
  it('two fleets started at once from separate processes get disjoint addresses and the same fixed port on each', async () => {
    const port = await freePort('127.0.0.1');
    const children = [fleetProcess(2, port), fleetProcess(2, port)];
    try {
      const [a, b] = await Promise.all(children.map((c) => c.report));
      assert.deepEqual(
        a!.addresses.filter((x) => b!.addresses.includes(x)),
        [],
        `shared addresses: ${a!.addresses} / ${b!.addresses}`,
      );
      for (const r of [...a!.runs, ...b!.runs])
        assert.equal(r.exitCode, 0, `${r.host}: docker run -p ${port}:8080 failed: ${r.stderr}`);
    } finally {
      await Promise.all(children.map((c) => c.stop()));
    }
  });
});

import { Client } from 'ssh2';
import { startFleet } from './fixtures/fleet.js';
import { connect } from '../lib/ssh/index.js';
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fleet = await startFleet({ hosts: 1 });
const host = fleet.hosts[0]!;
const opts = { connectTimeoutMs: 5000, commandTimeoutMs: 10000 };
try {
  const c1: number[] = [], p1: number[] = [];
  for (let r = 0; r < 10; r++) {
    const t0 = performance.now(); const s = await connect(host, fleet.auth, opts); await s.exec(['true']); c1.push(performance.now() - t0);
    for (let i = 0; i < 20; i++) { const t = performance.now(); await s.exec(['true']); p1.push(performance.now() - t); }
    await s.close();
  }
  console.log(`runner (NODELAY): connect+first exec median ${med(c1).toFixed(1)} ms; per command median ${med(p1).toFixed(2)} ms`);
  const rawExec = (c: Client) => new Promise<void>((res, rej) => c.exec('true', (e, ch) => { if (e) return rej(e); ch.on('close', () => res()); ch.resume(); ch.stderr.resume(); ch.end(); }));
  const c2: number[] = [], p2: number[] = [];
  for (let r = 0; r < 10; r++) {
    const t0 = performance.now();
    const c = new Client();
    await new Promise<void>((res, rej) => c.once('ready', () => res()).once('error', rej).connect({ host: host.address, port: host.port, username: host.user, privateKey: fleet.privateKey.reveal() }));
    await rawExec(c); c2.push(performance.now() - t0);
    for (let i = 0; i < 20; i++) { const t = performance.now(); await rawExec(c); p2.push(performance.now() - t); }
    c.end();
  }
  console.log(`raw ssh2 (Nagle on): connect+first exec median ${med(c2).toFixed(1)} ms; per command median ${med(p2).toFixed(2)} ms`);
} finally { await fleet.stop(); }

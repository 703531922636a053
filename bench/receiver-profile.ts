/**
 * `node --import tsx bench/receiver-profile.ts [path] [seconds] [connections]`: where a request's CPU goes.
 * Starts bench/receiver-server.ts, warms `path` (default /hooks/gitlab) up, then takes a V8 CPU profile
 * (sampling every 100 µs) of the server during one load window only, and prints self time per request by
 * file group and by function, with the server's `process.cpuUsage()` per request beside it. Self time is
 * what a function spends outside its callees: the list says what to remove, not what calls it. The raw
 * profile is kept (`--cpu-prof`-compatible: open it in Chrome DevTools) in the printed file. V8 samples by
 * wall time: on a loaded machine a descheduled process's pause lands on whatever frame ran (a system call,
 * a stream's destroy), so read the figures of a busy box as shares, or sample CPU time with `perf record`
 * and `node --perf-basic-prof`.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstJsonLine, startChild, stopChild } from './children.js';
import type { LoadOptions, LoadResult } from './load.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [path = '/hooks/gitlab', seconds = '4', connections = '16'] = process.argv.slice(2);
const server = startChild('bench/receiver-server.ts');
const message = <T>(key: string) =>
  new Promise<T>((resolve) => server.on('message', (m: Record<string, unknown>) => key in m && resolve(m[key] as T)));

try {
  const { port } = await firstJsonLine<{ port: number }>(server, 60_000);
  const cpu = async () => {
    const u = (await (await fetch(`http://127.0.0.1:${port}/bench/cpu`)).json()) as NodeJS.CpuUsage;
    return u.user + u.system;
  };
  const load = async (durationMs: number) => {
    const options: LoadOptions = {
      port,
      path,
      connections: Number(connections),
      warmupMs: 0,
      durationMs,
      bodyBytes: 20 * 1024,
    };
    const child = startChild('bench/load.ts', [JSON.stringify(options)]);
    try {
      return await firstJsonLine<LoadResult>(child, durationMs + 60_000);
    } finally {
      await stopChild(child);
    }
  };
  await load(2000); // JIT warm-up, outside the profile
  const started = message<boolean>('profiling');
  server.send({ profile: 'start' });
  await started;
  const journal = async () =>
    (await (await fetch(`http://127.0.0.1:${port}/bench/journal`)).json()) as { records: number; writes: number };
  const before = await cpu();
  const j0 = await journal();
  const result = await load(Number(seconds) * 1000);
  const used = (await cpu()) - before;
  const j1 = await journal();
  console.log(`journal: ${j1.records - j0.records} records in ${j1.writes - j0.writes} writes`);
  const stopped = message<CpuProfile>('profile');
  server.send({ profile: 'stop' });
  const profile = await stopped;
  const file = join(tmpdir(), `fjord-receiver-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  report(profile, result.total, used, result.statuses, file);
} finally {
  await stopChild(server);
}

function report(p: CpuProfile, requests: number, cpuUs: number, statuses: Record<string, number>, file: string): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fns = new Map<string, number>();
  const groups = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const { functionName, url, lineNumber, columnNumber } = byId.get(id)!.callFrame;
    const us = p.timeDeltas[i] ?? 0;
    const where = url.replace(/^file:\/\/.*?\/(node_modules|lib|bench)\//, '$1/');
    // tsx emits each module on one line: the column tells apart the anonymous closures of a file.
    const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}:${columnNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const group = groupOf(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + us);
  });
  const perReq = (us: number) => (us / requests).toFixed(1).padStart(7);
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(
    `${path}: ${requests} requests ${JSON.stringify(statuses)}, server CPU ${(cpuUs / requests).toFixed(0)} µs/request (process.cpuUsage)`,
  );
  console.log(`profile: ${file}\n\nself µs/request by group`);
  for (const [g, us] of top(groups, 30)) console.log(`${perReq(us)}  ${g}`);
  console.log('\nself µs/request by function (top 45)');
  for (const [f, us] of top(fns, 45)) console.log(`${perReq(us)}  ${f}`);
}

function groupOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : `(native) ${fn}`;
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/[^/]*$/, '/*');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  const own = /\/(lib|bench)\/(.*)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

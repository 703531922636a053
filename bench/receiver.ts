/**
 * `bench/receiver`: requests/s and p99 of an authenticated ~20 KB merge-request event through the full
 * receiver (auth, parse, validate, route, enqueue), against two baselines served by the same
 * @hono/node-server process in the same run: a bare route that ignores the body, and a floor route that
 * reads it, checks an HMAC-SHA256 and JSON.parses it. Server and load generator are separate child
 * processes on loopback. Targets are measured in interleaved rounds and the median kept, because other
 * work on a 2-core machine moves req/s around; server CPU time per request is reported beside it, which
 * such load does not move. A second server, the same receiver with the journal's fsync off, is measured
 * in the same rounds: it is no target, only the diagnosis of how much of the gap the durable write is
 * (the 202 of the real receiver waits for its O_DSYNC write), and the journal's records per write say how
 * well the group commit batched.
 */
import { firstJsonLine, startChild, stopChild } from './children.js';
import type { LoadOptions, LoadResult } from './load.js';

export interface ReceiverBenchOptions {
  connections?: number;
  warmupMs?: number;
  durationMs?: number;
  rounds?: number;
  bodyBytes?: number;
}

export interface TargetResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU (user + system) per request, warm-up included. */
  cpuUsPerReq: number;
  /** Receivers: journal records per write (group commit: 202s answered by one O_DSYNC write). */
  recordsPerWrite?: number;
}

export interface ReceiverBench {
  rps: number;
  bareRps: number;
  floorRps: number;
  /** rps ÷ floorRps. */
  ratio: number;
  p99Ms: number;
  targets: Record<Target, TargetResult>;
}

// `noFsync` is served by a second server whose journal does not fsync: a diagnosis, not a target.
type Target = 'bare' | 'floor' | 'receiver' | 'noFsync';
const TARGETS: Record<Target, readonly [string, number]> = {
  bare: ['/bench/bare', 200],
  floor: ['/bench/floor', 202],
  receiver: ['/hooks/gitlab', 202],
  noFsync: ['/hooks/gitlab', 202],
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchReceiver({
  connections = 16,
  warmupMs = 500,
  durationMs = 1500,
  rounds = 5,
  bodyBytes = 20 * 1024,
}: ReceiverBenchOptions = {}): Promise<ReceiverBench> {
  const server = startChild('bench/receiver-server.ts');
  const noFsync = startChild('bench/receiver-server.ts', ['--no-fsync']);
  const runs: Record<Target, TargetResult[]> = { bare: [], floor: [], receiver: [], noFsync: [] };
  try {
    const { port: durable } = await firstJsonLine<{ port: number }>(server, 60_000);
    const { port: fast } = await firstJsonLine<{ port: number }>(noFsync, 60_000);
    const get = async <T>(port: number, path: string) =>
      (await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as T;
    const cpu = async (port: number) => {
      const u = await get<NodeJS.CpuUsage>(port, '/bench/cpu');
      return u.user + u.system;
    };
    const journal = (port: number) => get<{ records: number; writes: number }>(port, '/bench/journal');
    for (let round = 0; round < rounds; round++) {
      for (const target of Object.keys(TARGETS) as Target[]) {
        const [path, expected] = TARGETS[target];
        const port = target === 'noFsync' ? fast : durable;
        const options: LoadOptions = { port, path, connections, warmupMs, durationMs, bodyBytes };
        const before = await cpu(port);
        const j0 = await journal(port);
        const load = startChild('bench/load.ts', [JSON.stringify(options)]);
        let result: LoadResult;
        try {
          result = await firstJsonLine<LoadResult>(load, warmupMs + 101 * durationMs + 60_000);
        } finally {
          await stopChild(load);
        }
        const used = (await cpu(port)) - before;
        const j1 = await journal(port);
        // A benchmark of refusals measures nothing: every answer must be the success one.
        const wrong = Object.keys(result.statuses).filter((s) => Number(s) !== expected);
        if (wrong.length > 0 || result.requests === 0)
          throw new Error(`${target}: unexpected answers ${JSON.stringify(result.statuses)}`);
        const written = j1.writes - j0.writes;
        runs[target].push({
          rps: result.rps,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          cpuUsPerReq: used / result.total,
          ...(written > 0 ? { recordsPerWrite: (j1.records - j0.records) / written } : {}),
        });
      }
    }
  } finally {
    await stopChild(server);
    await stopChild(noFsync);
  }
  const summary = (xs: TargetResult[]): TargetResult => ({
    rps: Math.round(median(xs.map((x) => x.rps))),
    p50Ms: round2(median(xs.map((x) => x.p50Ms))),
    p99Ms: round2(median(xs.map((x) => x.p99Ms))),
    cpuUsPerReq: Math.round(median(xs.map((x) => x.cpuUsPerReq))),
    ...(xs.every((x) => x.recordsPerWrite !== undefined)
      ? { recordsPerWrite: round2(median(xs.map((x) => x.recordsPerWrite!))) }
      : {}),
  });
  const targets = {
    bare: summary(runs.bare),
    floor: summary(runs.floor),
    receiver: summary(runs.receiver),
    noFsync: summary(runs.noFsync),
  };
  return {
    rps: targets.receiver.rps,
    bareRps: targets.bare.rps,
    floorRps: targets.floor.rps,
    ratio: round2(targets.receiver.rps / targets.floor.rps),
    p99Ms: targets.receiver.p99Ms,
    targets,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

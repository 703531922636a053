/**
 * `bench/receiver`: requests/s and p99 of an authenticated ~20 KB merge-request event through the full
 * receiver (auth, parse, validate, route, enqueue), against two baselines served by the same
 * @hono/node-server process in the same run: a bare route that ignores the body, and a floor route that
 * reads it, checks an HMAC-SHA256 and JSON.parses it. Server and load generator are separate child
 * processes on loopback. Targets are measured in interleaved rounds and the median kept, because other
 * work on a 2-core machine moves req/s around; server CPU time per request is reported beside it, which
 * such load does not move.
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
}

export interface ReceiverBench {
  rps: number;
  bareRps: number;
  floorRps: number;
  /** rps ÷ floorRps. */
  ratio: number;
  p99Ms: number;
  targets: Record<'bare' | 'floor' | 'receiver', TargetResult>;
}

const TARGETS = { bare: ['/bench/bare', 200], floor: ['/bench/floor', 202], receiver: ['/hooks/gitlab', 202] } as const;
type Target = keyof typeof TARGETS;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchReceiver({ connections = 16, warmupMs = 500, durationMs = 1500, rounds = 5, bodyBytes = 20 * 1024 }: ReceiverBenchOptions = {}): Promise<ReceiverBench> {
  const server = startChild('bench/receiver-server.ts');
  const runs: Record<Target, TargetResult[]> = { bare: [], floor: [], receiver: [] };
  try {
    const { port } = await firstJsonLine<{ port: number }>(server, 60_000);
    const cpu = async () => {
      const u = (await (await fetch(`http://127.0.0.1:${port}/bench/cpu`)).json()) as NodeJS.CpuUsage;
      return u.user + u.system;
    };
    for (let round = 0; round < rounds; round++) {
      for (const target of Object.keys(TARGETS) as Target[]) {
        const [path, expected] = TARGETS[target];
        const options: LoadOptions = { port, path, connections, warmupMs, durationMs, bodyBytes };
        const before = await cpu();
        const load = startChild('bench/load.ts', [JSON.stringify(options)]);
        let result: LoadResult;
        try {
          result = await firstJsonLine<LoadResult>(load, warmupMs + durationMs + 60_000);
        } finally {
          await stopChild(load);
        }
        const used = (await cpu()) - before;
        // A benchmark of refusals measures nothing: every answer must be the success one.
        const wrong = Object.keys(result.statuses).filter((s) => Number(s) !== expected);
        if (wrong.length > 0 || result.requests === 0) throw new Error(`${target}: unexpected answers ${JSON.stringify(result.statuses)}`);
        runs[target].push({ rps: result.rps, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuUsPerReq: used / result.total });
      }
    }
  } finally {
    await stopChild(server);
  }
  const summary = (xs: TargetResult[]): TargetResult => ({
    rps: Math.round(median(xs.map((x) => x.rps))),
    p50Ms: round2(median(xs.map((x) => x.p50Ms))),
    p99Ms: round2(median(xs.map((x) => x.p99Ms))),
    cpuUsPerReq: Math.round(median(xs.map((x) => x.cpuUsPerReq))),
  });
  const targets = { bare: summary(runs.bare), floor: summary(runs.floor), receiver: summary(runs.receiver) };
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

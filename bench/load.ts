/**
 * Load generator (a child process of bench/receiver.ts): `connections` keep-alive connections to
 * 127.0.0.1, each sending the next request as soon as the previous answer arrived, for `warmupMs` (not
 * counted) then `durationMs`. Prints `{requests, total, rps, p50Ms, p99Ms, statuses}` as one JSON line.
 */
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { requestMaker } from './receiver-request.js';

export interface LoadOptions {
  port: number;
  path: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
  bodyBytes: number;
  /**
   * At least this many answers in the window (default 1): while fewer came, the window is extended by
   * `durationMs` at a time (up to 100 times), so a stalled disk on a loaded box lengthens the run instead of
   * leaving an empty one. The rate is over the window as it ended.
   */
  minRequests?: number;
}

export interface LoadResult {
  /** Answers inside the measured window. */
  requests: number;
  /** Every answer, warm-up included. */
  total: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const make = requestMaker(o.bodyBytes);
  let n = 0;
  let total = 0;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  let end = measureFrom + o.durationMs;
  const lastEnd = measureFrom + 100 * o.durationMs;
  const minRequests = o.minRequests ?? 1;

  const one = () =>
    new Promise<void>((resolve, reject) => {
      const { body, headers } = make(n++);
      const t0 = performance.now();
      const req = request({ host: '127.0.0.1', port: o.port, method: 'POST', path: o.path, headers, agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          const t1 = performance.now();
          total++;
          if (t0 >= measureFrom && t1 <= end) {
            latencies.push(t1 - t0);
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          }
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });

  const worker = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= end) {
        if (latencies.length >= minRequests || now >= lastEnd) break;
        end = Math.min(lastEnd, now + o.durationMs);
      }
      await one();
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    total,
    rps: latencies.length / ((end - measureFrom) / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    statuses,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const result = await runLoad(JSON.parse(process.argv[2]!) as LoadOptions);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.disconnect?.(); // the IPC channel would keep this process alive
}

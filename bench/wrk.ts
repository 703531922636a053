/**
 * The peers benchmark's load generator: Debian's `wrk` (C, event loop, far less CPU per request than a
 * Node client, so it takes less of the 2 cores from the servers it measures). A Lua script sends the
 * bench's ~20 KB GitLab merge-request event with `X-Gitlab-Token`, each request with a merge sha and
 * delivery id of its own (a run nonce, the wrk thread, a counter), so fjord queues a new job every time
 * instead of answering a duplicate. Prints nothing; resolves the figures of one run.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchBody, PLACEHOLDER } from './receiver-request.js';

const run = promisify(execFile);

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers ≥ 400 and socket errors: a measured run must have none. */
  errors: number;
}

// wrk's Lua API: setup() per thread in the main state, init/request per thread, done() once
// (https://github.com/wg/wrk/blob/master/SCRIPTING). `done` prints one JSON line after wrk's own report.
const SCRIPT = `
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  local f = assert(io.open(args[1], "rb"))
  local body = f:read("*a")
  f:close()
  local at = assert(body:find(args[2], 1, true))
  prefix, suffix = body:sub(1, at - 1), body:sub(at + #args[2])
  path, token, nonce, n = args[3], args[4], args[5], 0
end
function request()
  n = n + 1
  local id = string.format("%s%08x%016d%08x", nonce, tid, 0, n)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["X-Gitlab-Event"] = "Merge Request Hook",
    ["X-Gitlab-Token"] = token,
    ["Idempotency-Key"] = id,
  }, prefix .. id .. suffix)
end
function done(s, latency)
  local e = s.errors
  io.write(string.format('\\n{"wrk":1,"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"errors":%d}\\n',
    s.requests, s.duration, latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
`;

/** Writes the script and the body (with its sha placeholder) into `dir`; returns a runner. */
export function makeWrk(dir: string, token: string, bodyBytes = 20 * 1024) {
  const script = join(dir, 'event.lua');
  const bodyFile = join(dir, 'event.json');
  writeFileSync(script, SCRIPT);
  writeFileSync(bodyFile, benchBody(bodyBytes).body);
  /** `connections` for `seconds` against `url` (threads: one per core of this machine, at most 2). */
  return async (url: string, connections: number, seconds: number): Promise<WrkResult> => {
    const { pathname, origin } = new URL(url);
    const nonce = randomBytes(4).toString('hex');
    const args = [
      '-t',
      '2',
      '-c',
      String(connections),
      '-d',
      `${seconds}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      origin,
      '--',
      bodyFile,
      PLACEHOLDER,
      pathname,
      token,
      nonce,
    ];
    const { stdout } = await run('wrk', args, { maxBuffer: 1024 * 1024 });
    const line = stdout.split('\n').find((l) => l.startsWith('{"wrk":'));
    if (!line) throw new Error(`wrk printed no summary:\n${stdout.slice(-1000)}`);
    const r = JSON.parse(line) as {
      requests: number;
      durationUs: number;
      p50Us: number;
      p99Us: number;
      errors: number;
    };
    return {
      requests: r.requests,
      rps: r.requests / (r.durationUs / 1e6),
      p50Ms: r.p50Us / 1000,
      p99Ms: r.p99Us / 1000,
      errors: r.errors,
    };
  };
}

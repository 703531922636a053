/**
 * `bench/peers` (receiver half): fjord's receiver against adnanh/webhook (Debian's `webhook`), the usual
 * "run a script when a hook arrives" server. Both get the same ~20 KB GitLab merge-request event from the
 * same load generator (`wrk`, bench/wrk.ts) at the same connections, and both check the same headers:
 * `X-Gitlab-Token` (the value) and `X-Gitlab-Event` (a merge-request hook). webhook then starts its
 * command (`/bin/true`) and answers 200; fjord authenticates, parses, validates, routes and durably
 * enqueues (fsync), and answers 202. Targets alternate round by round, median kept; server CPU per request
 * (from /proc, children included: webhook's commands count) beside req/s, as load moves req/s more.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/fixtures/sshd.js';
import { firstJsonLine, startChild, stopChild } from './children.js';
import { BENCH_TOKEN } from './receiver-request.js';
import { makeWrk } from './wrk.js';

export interface PeerRps {
  connections: number;
  fjordRps: number;
  webhookRps: number;
  /** fjordRps ÷ webhookRps. */
  ratio: number;
  fjordP99Ms: number;
  webhookP99Ms: number;
  fjordCpuUsPerReq: number;
  webhookCpuUsPerReq: number;
}

export interface WebhookPeerOptions {
  connections?: number[];
  rounds?: number;
  warmupSeconds?: number;
  seconds?: number;
}

/** adnanh/webhook's hooks.json: the same header checks as fjord's, 401 when they fail (default 200). */
export function hooksJson(token: string): string {
  const header = (name: string, value: string) => ({
    match: { type: 'value', value, parameter: { source: 'header', name } },
  });
  return JSON.stringify([
    {
      id: 'gitlab',
      'execute-command': '/bin/true',
      'response-message': 'queued',
      'trigger-rule-mismatch-http-response-code': 401,
      'trigger-rule': { and: [header('X-Gitlab-Token', token), header('X-Gitlab-Event', 'Merge Request Hook')] },
    },
  ]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** CPU seconds (user + system, reaped children included) of process `pid`, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // After "(comm) ": field 3 is index 0, so utime..cstime (fields 14–17) are indexes 11–14; 100 ticks/s.
  return fields.slice(11, 15).reduce((s, f) => s + Number(f), 0) / 100;
}

async function listening(port: number, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`webhook exited (${child.exitCode}) before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > until) throw new Error(`webhook not listening on ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Refuses to measure unless both servers accept the right event and refuse a wrong token: a benchmark of
 * refusals (or of a server that checks nothing) measures nothing.
 */
async function checkBoth(fjordUrl: string, webhookUrl: string, body: Buffer): Promise<void> {
  const post = (url: string, token: string) =>
    fetch(url, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': token },
    });
  const [fjordOk, hookOk, fjordBad, hookBad] = await Promise.all([
    post(fjordUrl, BENCH_TOKEN),
    post(webhookUrl, BENCH_TOKEN),
    post(fjordUrl, 'wrong'),
    post(webhookUrl, 'wrong'),
  ]);
  const fjordBody = await fjordOk.text();
  if (fjordOk.status !== 202 || !fjordBody.includes('"queued"'))
    throw new Error(`peers: fjord answered ${fjordOk.status} ${fjordBody.slice(0, 200)}`);
  if (hookOk.status !== 200)
    throw new Error(`peers: webhook answered ${hookOk.status} ${(await hookOk.text()).slice(0, 200)}`);
  if (fjordBad.status !== 401 || hookBad.status !== 401)
    throw new Error(
      `peers: a wrong X-Gitlab-Token got fjord ${fjordBad.status}, webhook ${hookBad.status} (401 expected from both)`,
    );
}

export async function benchWebhookPeer({
  connections = [16, 64],
  rounds = 3,
  warmupSeconds = 1,
  seconds = 3,
}: WebhookPeerOptions = {}): Promise<PeerRps[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-bench-peers-'));
  const hooks = join(dir, 'hooks.json');
  writeFileSync(hooks, hooksJson(BENCH_TOKEN));
  const webhookPort = await freePort('127.0.0.1');
  const fjord = startChild('bench/receiver-server.ts');
  const webhook = spawn(
    'webhook',
    ['-hooks', hooks, '-ip', '127.0.0.1', '-port', String(webhookPort), '-http-methods', 'POST'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    const { port } = await firstJsonLine<{ port: number }>(fjord, 60_000);
    await listening(webhookPort, webhook);
    const targets = {
      fjord: { url: `http://127.0.0.1:${port}/hooks/gitlab`, pid: fjord.pid! },
      webhook: { url: `http://127.0.0.1:${webhookPort}/hooks/gitlab`, pid: webhook.pid! },
    };
    const wrk = makeWrk(dir, BENCH_TOKEN);
    await checkBoth(targets.fjord.url, targets.webhook.url, readFileSync(join(dir, 'event.json')));
    const runs = new Map<string, Array<{ rps: number; p99Ms: number; cpuUsPerReq: number }>>();
    for (let r = 0; r < rounds; r++) {
      for (const c of connections) {
        for (const [name, t] of Object.entries(targets)) {
          await wrk(t.url, c, warmupSeconds);
          const before = cpuSeconds(t.pid);
          const result = await wrk(t.url, c, seconds);
          const cpu = cpuSeconds(t.pid) - before;
          if (result.errors > 0 || result.requests === 0)
            throw new Error(
              `peers: ${name} at ${c} connections: ${result.errors} errors of ${result.requests} requests`,
            );
          const key = `${name}/${c}`;
          runs.set(key, [
            ...(runs.get(key) ?? []),
            { rps: result.rps, p99Ms: result.p99Ms, cpuUsPerReq: (cpu * 1e6) / result.requests },
          ]);
        }
      }
    }
    return connections.map((c) => {
      const m = (name: string, k: 'rps' | 'p99Ms' | 'cpuUsPerReq') =>
        median(runs.get(`${name}/${c}`)!.map((x) => x[k]));
      return {
        connections: c,
        fjordRps: Math.round(m('fjord', 'rps')),
        webhookRps: Math.round(m('webhook', 'rps')),
        ratio: round2(m('fjord', 'rps') / m('webhook', 'rps')),
        fjordP99Ms: round2(m('fjord', 'p99Ms')),
        webhookP99Ms: round2(m('webhook', 'p99Ms')),
        fjordCpuUsPerReq: Math.round(m('fjord', 'cpuUsPerReq')),
        webhookCpuUsPerReq: Math.round(m('webhook', 'cpuUsPerReq')),
      };
    });
  } finally {
    await stopChild(fjord);
    await stopChild(webhook);
    rmSync(dir, { recursive: true, force: true });
  }
}

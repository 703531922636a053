/**
 * `npm run bench [name…]`: runs the registered benchmarks (all, or those named), prints one table, and
 * merges their figures into bench/results.json under each benchmark's key, keeping keys of others.
 * A new benchmark adds one entry to BENCHES.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { benchBundles } from './bundles.js';
import { benchE2e } from './e2e.js';
import { benchPeers } from './peers.js';
import { benchQueue } from './queue.js';
import { benchReceiver } from './receiver.js';
import { benchRollout } from './rollout.js';
import { benchZeroDowntime } from './zero-downtime.js';

type Row = Record<string, string | number>;
interface Bench {
  /** Figures stored in results.json under the benchmark's key. */
  run(): Promise<{ result: unknown; rows: Row[] }>;
}

const BENCHES: Record<string, Bench> = {
  queue: {
    // Durable sends (group commit + fdatasync) against the same queue with fsync off, in the same run.
    async run() {
      const durable = await benchQueue({ senders: 50, durationMs: 3000, fsync: true });
      const baseline = await benchQueue({ senders: 50, durationMs: 3000, fsync: false });
      const rows = [
        {
          bench: 'queue',
          case: 'local queue, fsync off (baseline)',
          'req/s': Math.round(baseline.sendsPerSec),
          'p99 ms': baseline.p99Ms,
          'vs floor': '1.00',
        },
        {
          bench: 'queue',
          case: 'local queue, durable (50 senders)',
          'req/s': Math.round(durable.sendsPerSec),
          'p99 ms': durable.p99Ms,
          'vs floor': (durable.sendsPerSec / baseline.sendsPerSec).toFixed(2),
        },
      ];
      return {
        result: {
          sendsPerSec: durable.sendsPerSec,
          p99Ms: durable.p99Ms,
          perWrite: durable.perWrite,
          noFsyncSendsPerSec: baseline.sendsPerSec,
        },
        rows,
      };
    },
  },
  receiver: {
    async run() {
      const r = await benchReceiver();
      const cases = {
        bare: 'bare route (ignores body)',
        floor: 'floor (read + HMAC + JSON.parse)',
        receiver: 'full receiver (20 KB MR event)',
        noFsync: 'diagnosis: full receiver, journal fsync off',
      };
      const rows = (Object.keys(cases) as Array<keyof typeof cases>).map((t) => ({
        bench: 'receiver',
        case: cases[t],
        'req/s': r.targets[t].rps,
        'p50 ms': r.targets[t].p50Ms,
        'p99 ms': r.targets[t].p99Ms,
        'server CPU µs/req': r.targets[t].cpuUsPerReq,
        'records/write': r.targets[t].recordsPerWrite ?? '',
        'vs floor': (r.targets[t].rps / r.floorRps).toFixed(2),
      }));
      const { floor, receiver, noFsync } = r.targets;
      const result = {
        rps: r.rps,
        bareRps: r.bareRps,
        floorRps: r.floorRps,
        ratio: r.ratio,
        p99Ms: r.p99Ms,
        floorP99Ms: floor.p99Ms,
        cpuUsPerReq: receiver.cpuUsPerReq,
        floorCpuUsPerReq: floor.cpuUsPerReq,
        recordsPerWrite: receiver.recordsPerWrite,
        noFsyncRps: noFsync.rps,
        noFsyncCpuUsPerReq: noFsync.cpuUsPerReq,
      };
      return { result, rows };
    },
  },
  rollout: {
    // Merge → all hosts healthy through deploy(), against a bare ssh2 + git floor with the same batches.
    async run() {
      const { rows: r } = await benchRollout();
      const rows = r.map((x) => ({
        bench: 'rollout',
        case: `${x.hosts} host${x.hosts > 1 ? 's' : ''}, batch ${x.batch}`,
        seconds: x.seconds.toFixed(2),
        'floor s': x.floorSeconds.toFixed(2),
        'vs floor': x.ratio.toFixed(2),
      }));
      return { result: r, rows };
    },
  },
  e2e: {
    // Webhook POST → outcome deployed through the embedded process, against 202 + the rollout floor.
    async run() {
      const r = await benchE2e();
      const rows = [
        {
          bench: 'e2e',
          case: `webhook → ${r.hosts} hosts healthy, batch ${r.batch}`,
          seconds: r.seconds.toFixed(2),
          'floor s': (r.floorSeconds + r.acceptMs / 1000).toFixed(2),
          '202 ms': r.acceptMs,
          'vs floor': r.ratio.toFixed(2),
        },
      ];
      return { result: r, rows };
    },
  },
  zeroDowntime: {
    // v1 → v2 of an app under a bounded load loop: through the host's nginx, and without a proxy.
    async run() {
      const z = await benchZeroDowntime();
      const w = z.withoutProxy;
      const rows: Row[] = [
        {
          bench: 'zeroDowntime',
          case: 'deploy under load, through nginx (rollout.proxy)',
          requests: z.requests,
          failed: z.failed,
          'switch ms': z.switchMs,
          'downtime ms': z.downtimeMs,
        },
        {
          bench: 'zeroDowntime',
          case: 'deploy under load, no proxy (stop-then-start)',
          requests: w.requests,
          failed: w.failed,
          'switch ms': w.switchMs,
          'downtime ms': w.downtimeMs,
        },
      ];
      return { result: z, rows };
    },
  },
  peers: {
    // fjord's receiver vs adnanh/webhook (same event, header check, wrk), its rollout vs ansible-playbook.
    async run() {
      const p = await benchPeers();
      const rows: Row[] = [];
      if ('skipped' in p.webhook)
        rows.push({ bench: 'peers', case: `receiver vs adnanh/webhook: ${p.webhook.skipped}` });
      else
        for (const r of p.webhook.rows)
          rows.push({
            bench: 'peers',
            case: `receiver vs adnanh/webhook, ${r.connections} connections`,
            'req/s': r.fjordRps,
            'peer req/s': r.webhookRps,
            'p99 ms': r.fjordP99Ms,
            'peer p99 ms': r.webhookP99Ms,
            'server CPU µs/req': r.fjordCpuUsPerReq,
            'peer CPU µs/req': r.webhookCpuUsPerReq,
            'vs peer': r.ratio.toFixed(2),
          });
      if ('skipped' in p.ansible)
        rows.push({ bench: 'peers', case: `rollout vs ansible-playbook: ${p.ansible.skipped}` });
      else
        for (const r of p.ansible)
          rows.push({
            bench: 'peers',
            case: `rollout vs ansible-playbook, ${r.hosts} host${r.hosts > 1 ? 's' : ''}, batch ${r.batch}`,
            seconds: r.seconds.toFixed(2),
            'peer s': r.ansibleSeconds.toFixed(2),
            'vs peer': r.ratio.toFixed(2),
          });
      return { result: p, rows };
    },
  },
  bundles: {
    async run() {
      const b = await benchBundles();
      const kb = (n: number) => (n / 1024).toFixed(1);
      const rows = [
        { bench: 'bundles', case: 'Workers receiver (gzip KB, budget 250)', value: kb(b.workersGzipBytes) },
        { bench: 'bundles', case: 'Lambda receiver (gzip KB)', value: kb(b.lambdaReceiverGzipBytes) },
        { bench: 'bundles', case: 'Lambda worker (gzip KB, aim 250)', value: kb(b.lambdaWorkerGzipBytes) },
        { bench: 'bundles', case: 'Lambda receiver cold import (ms, median, aim 150)', value: b.coldImportMs },
        {
          bench: 'bundles',
          case: 'Lambda worker cold import (ms, median, SQS client included)',
          value: b.workerColdImportMs,
        },
      ];
      return { result: b, rows };
    },
  },
};

function table(rows: Row[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (r: Row, c: string) => String(r[c] ?? '');
  const width = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i < 2 ? v.padEnd(width[i]!) : v.padStart(width[i]!))).join('  ');
  return [
    line(columns),
    line(width.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => cell(r, c)))),
  ].join('\n');
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHES[w]);
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const file = new URL('./results.json', import.meta.url);
const results: Record<string, unknown> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
const rows: Row[] = [];
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES)) {
  const { result, rows: own } = await BENCHES[name]!.run();
  results[name] = result;
  rows.push(...own);
}
console.log(table(rows));
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
console.log(`\nwrote ${file.pathname}`);

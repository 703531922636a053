/**
 * Durable sends per second into the embedded queue: `senders` concurrent callers, each sending its next
 * job as soon as the last one resolved (fsync on), as the receiver does under load. Group commit is what
 * makes this fast: concurrent sends share one write + fdatasync.
 * Run alone: `node --import tsx bench/queue.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeployJob } from '../lib/job.js';
import { createLocalQueue } from '../lib/queue/local.js';
import { localQueueKey } from '../lib/queue/local-queue-key.js';

export interface QueueBenchResult {
  sendsPerSec: number;
  /** 99th percentile of one send's latency (ms). */
  p99Ms: number;
  /** Records per write + fdatasync: the group commit at work. */
  perWrite: number;
}

export async function benchQueue({ senders = 50, durationMs = 3000, fsync = true } = {}): Promise<QueueBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'fjord-bench-queue-'));
  const queue = await createLocalQueue({ dir, fsync, key: await localQueueKey({}, dir) });
  const base: DeployJob = {
    v: 1,
    id: 'bench-job-0',
    app: 'api',
    environment: 'prod',
    image: 'registry.example.com/acme/api',
    tag: 'v1',
    sha: '0'.repeat(40),
    reason: 'merge',
    source: { provider: 'gitlab', project: 'acme/api', ref: 'main', mr: 1, author: 'Ada Lovelace' },
    enqueuedAt: new Date().toISOString(),
  };
  const latencies: number[] = [];
  let n = 0;
  const deadline = performance.now() + durationMs;
  const sender = async (s: number) => {
    while (performance.now() < deadline) {
      const i = ++n;
      const job = { ...base, id: `bench-job-${i}`, tag: `v${i}`, app: `app${s % 10}` };
      const started = performance.now();
      await queue.send(job, { group: `${job.app}/prod`, dedupId: `${job.app}/prod/${i}` });
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: senders }, (_, s) => sender(s)));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const { records, writes } = queue.stats();
    return {
      perWrite: Number((records / Math.max(1, writes)).toFixed(1)),
      sendsPerSec: Math.round(latencies.length / seconds),
      p99Ms: Number((latencies[Math.floor(latencies.length * 0.99)] ?? 0).toFixed(2)),
    };
  } finally {
    await queue.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify({ queue: await benchQueue() }));
  console.log(JSON.stringify({ queueNoFsync: await benchQueue({ fsync: false }) }));
  console.log(JSON.stringify({ queueOneSender: await benchQueue({ senders: 1 }) }));
}

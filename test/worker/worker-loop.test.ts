import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../lib/log.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import { RetryableError, type Outcome } from '../../lib/worker/outcome.js';
import { startWorker } from '../../lib/worker/worker-loop.js';
import type { DeployJob } from '../../lib/job.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';

const freshQueue = (maxAttempts = 5) =>
  createLocalQueue({ key: testQueueKey(), dir: mkdtempSync(join(tmpdir(), 'fjord-worker-')), maxAttempts });

describe('worker loop on the local queue', () => {
  it('runs one job per group at a time, in order, groups in parallel', async () => {
    const queue = await freshQueue();
    for (let n = 1; n <= 4; n++) {
      for (const environment of ['staging', 'prod']) {
        const job = makeJob({ environment, n });
        await queue.send(job, sendOptionsOf(job));
      }
    }
    const running = new Map<string, number>();
    const order: string[] = [];
    let maxParallel = 0;
    const worker = startWorker({
      queue,
      logger: silentLogger,
      concurrency: 4,
      idleMs: 10,
      handle: async (job) => {
        const n = (running.get(job.environment) ?? 0) + 1;
        assert.equal(n, 1, `two jobs of ${job.environment} in flight`);
        running.set(job.environment, n);
        maxParallel = Math.max(
          maxParallel,
          [...running.values()].reduce((a, b) => a + b, 0),
        );
        await new Promise((r) => setTimeout(r, 20));
        order.push(`${job.environment}:${job.tag}`);
        running.set(job.environment, 0);
        return { status: 'received' };
      },
    });
    await worker.idle();
    await worker.stop();
    assert.deepEqual(
      order.filter((o) => o.startsWith('prod')),
      ['prod:v1', 'prod:v2', 'prod:v3', 'prod:v4'],
    );
    assert.deepEqual(
      order.filter((o) => o.startsWith('staging')),
      ['staging:v1', 'staging:v2', 'staging:v3', 'staging:v4'],
    );
    assert.equal(maxParallel, 2);
    assert.equal(queue.list().length, 0);
    await queue.close();
  });

  it('acks a failed deploy (final), retries a RetryableError, dead-letters a handler that keeps crashing', async () => {
    const queue = await freshQueue(2);
    const jobs = {
      failed: makeJob({ environment: 'a' }),
      flaky: makeJob({ environment: 'b' }),
      crash: makeJob({ environment: 'c' }),
    };
    for (const job of Object.values(jobs)) await queue.send(job, sendOptionsOf(job));
    const seen: Record<string, number> = {};
    const outcomes: Array<[DeployJob, Outcome]> = [];
    const worker = startWorker({
      queue,
      logger: silentLogger,
      idleMs: 10,
      onOutcome: (job, outcome) => outcomes.push([job, outcome]),
      handle: async (job) => {
        seen[job.environment] = (seen[job.environment] ?? 0) + 1;
        if (job.environment === 'a') return { status: 'failed', detail: 'health check failed' };
        if (job.environment === 'b' && seen.b === 1) throw new RetryableError('registry down', 0);
        if (job.environment === 'c') throw new Error('bug');
        return { status: 'received' };
      },
    });
    const deadline = Date.now() + 10_000;
    while (queue.listDead().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await worker.idle();
    await worker.stop();
    assert.equal(seen.a, 1, 'a failed deploy is not redelivered');
    assert.equal(seen.b, 2, 'a retryable error is retried once and then succeeds');
    assert.deepEqual(
      queue.listDead().map((d) => d.job.environment),
      ['c'],
    );
    assert.deepEqual(outcomes.map(([j, o]) => `${j.environment}:${o.status}`).sort(), ['a:failed', 'b:received']);
    await queue.close();
  });

  it('heartbeats keep a long job invisible past its visibility timeout', async () => {
    const queue = await freshQueue();
    const job = makeJob();
    await queue.send(job, sendOptionsOf(job));
    let runs = 0;
    const worker = startWorker({
      queue,
      logger: silentLogger,
      visibilitySec: 1,
      idleMs: 10,
      concurrency: 2,
      handle: async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 2500));
        return { status: 'received' };
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    await worker.idle();
    await worker.stop();
    assert.equal(runs, 1, 'the job was redelivered while still running');
    await queue.close();
  });
});

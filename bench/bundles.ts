/**
 * Bundle sizes of the serverless entrypoints (issue 5: Workers receiver ≤ 250 KB gzipped) and the cold
 * import time of the Lambda receiver bundle: a fresh `node` process importing it with the environment a
 * deployed function has (config, queue URL), median of several runs — what a cold start adds before the
 * first request. Bundles are built into a temporary directory with infra/bundle.ts, as deployed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleLambda, bundleWorkers, ROOT } from '../infra/bundle.js';

export interface BundleFigures {
  workersGzipBytes: number;
  lambdaReceiverGzipBytes: number;
  lambdaWorkerGzipBytes: number;
  coldImportMs: number;
}

export async function benchBundles({ runs = 7 }: { runs?: number } = {}): Promise<BundleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-bundles-'));
  try {
    const [workers, receiver, worker] = await Promise.all([
      bundleWorkers({ outFile: join(dir, 'workers/receiver.mjs') }),
      bundleLambda('lambda-receiver', { outDir: join(dir, 'receiver') }),
      bundleLambda('lambda-worker', { outDir: join(dir, 'worker') }),
    ]);
    const env = {
      PATH: process.env.PATH,
      NODE_NO_WARNINGS: '1',
      FJORD_LOG_LEVEL: 'error',
      FJORD_CONFIG_YAML: readFileSync(join(ROOT, 'examples/fjord.yaml'), 'utf8'),
      FJORD_SQS_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/fjord-jobs.fifo',
      AWS_REGION: 'eu-central-1',
      // What Lambda puts in every function's environment: the role's keys (the receiver signs with them).
      AWS_ACCESS_KEY_ID: 'AKIDBENCHBENCHBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
      AWS_SESSION_TOKEN: 'bench-session-token',
      FJORD_GITLAB_SECRET: 'bench-webhook-token-0123456789',
      // Signs every queued job (lib/queue/queue-key.ts); from Secrets Manager on AWS.
      FJORD_QUEUE_KEY: 'bench-queue-key-0123456789abcdef0123456789abcdef',
    };
    const script = `const t = performance.now(); await import(${JSON.stringify(receiver.file)}); process.stdout.write(String(performance.now() - t));`;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      times.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' })));
    }
    times.sort((a, b) => a - b);
    return {
      workersGzipBytes: workers.gzipBytes,
      lambdaReceiverGzipBytes: receiver.gzipBytes,
      lambdaWorkerGzipBytes: worker.gzipBytes,
      coldImportMs: Math.round(times[Math.floor(times.length / 2)]! * 10) / 10,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

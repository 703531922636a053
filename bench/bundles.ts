/**
 * Bundle sizes of the serverless entrypoints (issue 5: Workers receiver ≤ 250 KB gzipped) and the cold
 * import time of the Lambda receiver and worker bundles: a fresh `node` process per run importing it with
 * the environment a deployed function has (config, queue URL), median of several runs — what a cold start
 * adds before the first request or batch. Bundles are built with infra/bundle.ts, as deployed, into a
 * temporary directory under the repository's dist/, so the worker's `@aws-sdk/client-sqs` (external: the
 * Lambda runtime provides it) resolves from node_modules as it does from the runtime's.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bundleLambda, bundleWorkers, ROOT } from '../infra/bundle.js';

export interface BundleFigures {
  workersGzipBytes: number;
  lambdaReceiverGzipBytes: number;
  /** The worker's whole shipped code: one file, no chunks (nothing is split off to load later). */
  lambdaWorkerGzipBytes: number;
  /** Minified bytes of the worker's largest packages (`lib` is fjord's own), from esbuild's metafile. */
  lambdaWorkerPackages: Record<string, number>;
  coldImportMs: number;
  /** The worker's, its SQS client (from the runtime on Lambda, node_modules here) included. */
  workerColdImportMs: number;
}

/** The environment a deployed fjord Lambda function has (config, queue URL, role keys, secrets), for a fresh `node`. */
export function deployedFunctionEnv(): NodeJS.ProcessEnv {
  return {
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
}

export async function benchBundles({ runs = 7 }: { runs?: number } = {}): Promise<BundleFigures> {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'dist', 'bench-bundles-'));
  try {
    const [workers, receiver, worker] = await Promise.all([
      bundleWorkers({ outFile: join(dir, 'workers/receiver.mjs') }),
      bundleLambda('lambda-receiver', { outDir: join(dir, 'receiver') }),
      bundleLambda('lambda-worker', { outDir: join(dir, 'worker') }),
    ]);
    const env = deployedFunctionEnv();
    const coldImport = (file: string) => {
      const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        times.push(
          Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' })),
        );
      }
      times.sort((a, b) => a - b);
      return Math.round(times[Math.floor(times.length / 2)]! * 10) / 10;
    };
    return {
      workersGzipBytes: workers.gzipBytes,
      lambdaReceiverGzipBytes: receiver.gzipBytes,
      lambdaWorkerGzipBytes: worker.gzipBytes,
      lambdaWorkerPackages: Object.fromEntries(Object.entries(worker.packages).slice(0, 12)),
      coldImportMs: coldImport(receiver.file),
      workerColdImportMs: coldImport(worker.file),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

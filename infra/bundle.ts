/**
 * esbuild bundles of the serverless entrypoints, offline and without Docker: one ESM file per Lambda
 * function (with fjord.yaml beside it) and one for Cloudflare Workers. Used by the CDK app (infra/app.ts),
 * `wrangler.toml`'s build command, the Workers test and the bundle benchmark, so what is measured and
 * tested is what is deployed. `node --import tsx infra/bundle.ts workers|lambda` builds from the shell.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Bundle {
  /** The bundled file. */
  file: string;
  /** Its directory (a Lambda asset). */
  dir: string;
  bytes: number;
  gzipBytes: number;
}

export type LambdaEntry = 'lambda-receiver' | 'lambda-worker' | 'reconcile';

/**
 * zod re-exports every message locale as a namespace (`export * as locales`), which esbuild cannot
 * tree-shake: 40-odd translations, ~250 KB minified, that fjord never selects (it keeps zod's default
 * English messages, imported by zod directly). The bundles resolve that one index to an empty module.
 */
const zodWithoutLocales: Plugin = {
  name: 'zod-without-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'fjord-empty' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'fjord-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * CommonJS packages whose index requires every module they have, of which fjord's imports use one or two
 * (esbuild cannot tree-shake `require`): the bundles take just those. rate-limiter-flexible: @gitbeaker
 * imports RateLimiterQueue and RateLimiterMemory, the index also pulls the Redis, Mongo, SQL, Etcd, …
 * limiters (~55 KB minified). ssh2: lib/ssh/connect.ts imports only Client, the index also the SSH server,
 * key generation and HTTP agents.
 */
const SLIM: Record<string, { from: RegExp; contents: string }> = {
  'rate-limiter-flexible': {
    from: /[\\/]@gitbeaker[\\/]/,
    contents: "export { default as RateLimiterMemory } from 'rate-limiter-flexible/lib/RateLimiterMemory.js'; export { default as RateLimiterQueue } from 'rate-limiter-flexible/lib/RateLimiterQueue.js';",
  },
  ssh2: { from: /[\\/]lib[\\/]ssh[\\/]/, contents: "export { default as Client } from 'ssh2/lib/client.js';" },
};

const slimDependencies: Plugin = {
  name: 'slim-dependencies',
  setup(b) {
    const names = Object.keys(SLIM).map((n) => n.replace(/[-/]/g, '\\$&'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => (SLIM[args.path]!.from.test(args.importer) ? { path: args.path, namespace: 'fjord-slim', pluginData: args.resolveDir } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'fjord-slim' }, (args) => ({ contents: SLIM[args.path]!.contents, loader: 'js', resolveDir: args.pluginData as string }));
  },
};

const common: BuildOptions = { bundle: true, minify: true, format: 'esm', legalComments: 'none', logLevel: 'error', sourcemap: false, plugins: [zodWithoutLocales, slimDependencies] };

/** `functions/<entry>.ts` → `<outDir>/index.mjs` (+ `fjord.yaml` when `configFile` is given). */
export async function bundleLambda(entry: LambdaEntry, { outDir = join(ROOT, 'dist/lambda', entry), configFile }: { outDir?: string; configFile?: string } = {}): Promise<Bundle> {
  const file = join(outDir, 'index.mjs');
  await build({
    ...common,
    entryPoints: [join(ROOT, 'functions', `${entry}.ts`)],
    outfile: file,
    platform: 'node',
    target: 'node20',
    // CommonJS dependencies call require() for Node built-ins and read __dirname (ssh2's agent.js, at
    // load), neither of which an ES module has.
    banner: {
      js: "import { createRequire as __fjordRequire } from 'node:module'; import { fileURLToPath as __fjordPath } from 'node:url'; const require = __fjordRequire(import.meta.url); const __filename = __fjordPath(import.meta.url); const __dirname = __fjordPath(new URL('.', import.meta.url));",
    },
    // ssh2's optional native add-ons: it falls back to pure JS when they are absent. The worker takes the
    // AWS SDK v3 from the Lambda Node.js runtime, which provides it (docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html);
    // the receiver and the reconcile scheduler only send, with a signed fetch, and carry no SDK at all.
    external: ['cpu-features', '*.node', ...(entry === 'lambda-worker' ? ['@aws-sdk/*'] : [])],
  });
  if (configFile) copyFileSync(configFile, join(outDir, 'fjord.yaml'));
  return measure(file);
}

/** `functions/workers-receiver.ts` → one ES module for workerd (nodejs_compat provides the `node:` built-ins). */
export async function bundleWorkers({ outFile = join(ROOT, 'dist/workers/receiver.mjs') }: { outFile?: string } = {}): Promise<Bundle> {
  await build({
    ...common,
    entryPoints: [join(ROOT, 'functions/workers-receiver.ts')],
    outfile: outFile,
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    // Provided by workerd under nodejs_compat (https://developers.cloudflare.com/workers/runtime-apis/nodejs/).
    external: ['node:*'],
  });
  return measure(outFile);
}

function measure(file: string): Bundle {
  mkdirSync(dirname(file), { recursive: true });
  const bytes = readFileSync(file);
  return { file, dir: dirname(file), bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const what = process.argv[2] ?? 'all';
  const out: Bundle[] = [];
  if (what === 'workers' || what === 'all') out.push(await bundleWorkers());
  if (what === 'lambda' || what === 'all') out.push(await bundleLambda('lambda-receiver'), await bundleLambda('lambda-worker'), await bundleLambda('reconcile'));
  for (const b of out) console.log(`${b.file}: ${b.bytes} bytes, ${b.gzipBytes} gzipped`);
}

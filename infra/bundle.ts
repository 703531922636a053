/**
 * esbuild bundles of the serverless entrypoints, offline and without Docker: one ESM file per Lambda
 * function (with fjord.yaml beside it) and one for Cloudflare Workers. Used by the CDK app (infra/app.ts),
 * `wrangler.toml`'s build command, the Workers test and the bundle benchmark, so what is measured and
 * tested is what is deployed. `node --import tsx infra/bundle.ts workers|lambda` builds from the shell.
 */
import { minify, type JsMinifyOptions } from '@swc/core';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Bundle {
  /** The bundled file. */
  file: string;
  /** Its directory (a Lambda asset). */
  dir: string;
  bytes: number;
  gzipBytes: number;
  /** Minified bytes per package in the output (esbuild's metafile). */
  packages: Record<string, number>;
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
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'fjord-empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'fjord-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * zod's classic schemas carry its JSON Schema generator (`schema.toJSONSchema()`, a JSON Schema processor
 * per type, `~standard.jsonSchema`: ~19 KB minified), reachable from every schema but called only by
 * `fjord config schema`, a CLI command that no bundle runs. The bundles get modules with the same exports
 * (read from zod's own files, so a new one is never missing) that throw if called.
 */
const zodWithoutJsonSchema: Plugin = {
  name: 'zod-without-json-schema',
  setup(b) {
    b.onResolve({ filter: /[\\/](json-schema-processors|to-json-schema|json-schema-generator)\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer)
        ? { path: join(args.resolveDir, args.path), namespace: 'fjord-zod-json-schema' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'fjord-zod-json-schema' }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const names = new Set([...src.matchAll(/^export (?:function|const|class) (\w+)/gm)].map((m) => m[1]!));
      for (const [, list] of src.matchAll(/^export \{([^}]*)\}/gm))
        for (const name of list!.split(','))
          names.add(
            name
              .trim()
              .split(/\s+as\s+/)
              .pop()!,
          );
      names.delete('');
      // Each export is a function (or a factory of one, as createToJSONSchemaMethod is) that throws when run.
      const unavailable =
        "const unavailable = () => () => { throw new Error('zod JSON Schema is not in fjord\\'s bundles (infra/bundle.ts): run fjord config schema'); };";
      return {
        contents: [unavailable, ...[...names].map((n) => `export const ${n} = unavailable;`)].join('\n'),
        loader: 'js',
      };
    });
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
    contents:
      "export { default as RateLimiterMemory } from 'rate-limiter-flexible/lib/RateLimiterMemory.js'; export { default as RateLimiterQueue } from 'rate-limiter-flexible/lib/RateLimiterQueue.js';",
  },
  ssh2: { from: /[\\/]lib[\\/]ssh[\\/]/, contents: "export { default as Client } from 'ssh2/lib/client.js';" },
};

const slimDependencies: Plugin = {
  name: 'slim-dependencies',
  setup(b) {
    const names = Object.keys(SLIM).map((n) => n.replace(/[-/]/g, '\\$&'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) =>
      SLIM[args.path]!.from.test(args.importer)
        ? { path: args.path, namespace: 'fjord-slim', pluginData: args.resolveDir }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'fjord-slim' }, (args) => ({
      contents: SLIM[args.path]!.contents,
      loader: 'js',
      resolveDir: args.pluginData as string,
    }));
    // ssh2's client requires its SFTP implementation (~50 KB minified) at load for `client.sftp()`, and its
    // utils to tell an SFTP channel apart; fjord never opens one (it runs commands: lib/ssh/session.ts).
    // Calling it anyway fails plainly.
    b.onResolve({ filter: /^\.\/protocol\/SFTP\.js$/ }, (args) =>
      /[\\/]ssh2[\\/]lib[\\/](client|utils)\.js$/.test(args.importer)
        ? { path: 'ssh2-sftp', namespace: 'fjord-slim-sftp' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'fjord-slim-sftp' }, () => ({
      contents:
        "exports.SFTP = class SFTP { constructor() { throw new Error('SFTP is not in fjord\\'s bundles (infra/bundle.ts)'); } };",
      loader: 'js',
    }));
    // ssh2 computes the MAC of chacha20-poly1305@openssh.com with an Emscripten build of Poly1305 (~23 KB
    // minified, asm.js), loaded at start-up. The bundles already carry @noble/ciphers' audited Poly1305
    // (age-encryption's, for its own ChaCha20-Poly1305): they give ssh2 that one, behind the two calls ssh2
    // makes of the Emscripten module (`_malloc(16)` for the tag, `cwrap('poly1305_auth')`: the tag of the
    // encrypted length followed by the encrypted packet, under a 32-byte one-time key, written at the
    // pointer that HEAPU8 is read from).
    b.onResolve({ filter: /^\.\/crypto\/poly1305\.js$/ }, (args) =>
      /[\\/]ssh2[\\/]lib[\\/]protocol[\\/]crypto\.js$/.test(args.importer)
        ? { path: 'ssh2-poly1305', namespace: 'fjord-slim-poly1305' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'fjord-slim-poly1305' }, () => ({
      contents: `const { poly1305 } = require('@noble/ciphers/_poly1305.js');
        module.exports = async () => {
          const HEAPU8 = new Uint8Array(16);
          const poly1305_auth = (out, a, aLen, b, bLen, key) =>
            HEAPU8.set(poly1305.create(key).update(a.subarray(0, aLen)).update(b.subarray(0, bLen)).digest(), out);
          return { HEAPU8, _malloc: () => 0, cwrap: () => poly1305_auth };
        };`,
      loader: 'js',
      resolveDir: dirname(createRequire(import.meta.url).resolve('age-encryption')),
    }));
    // bcrypt-pbkdf (ssh2's reader of passphrase-protected OpenSSH keys) takes all of tweetnacl (~35 KB
    // minified) for one function, `lowlevel.crypto_hash`: SHA-512 of the first n bytes of m into out.
    // node:crypto's SHA-512 is that hash.
    b.onResolve({ filter: /^tweetnacl$/ }, (args) =>
      /[\\/]bcrypt-pbkdf[\\/]/.test(args.importer)
        ? { path: 'tweetnacl-sha512', namespace: 'fjord-slim-nacl' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'fjord-slim-nacl' }, () => ({
      contents:
        "const { createHash } = require('node:crypto'); exports.lowlevel = { crypto_hash(out, m, n) { out.set(createHash('sha512').update(m.subarray(0, n)).digest()); return 0; } };",
      loader: 'js',
    }));
  },
};

/**
 * @gitbeaker/core ships its ~220 resource classes in one file as `var X = class extends BaseResource {…}`,
 * and @gitbeaker/rest presets every one of them with its requester (`presetResourceArguments(CORE)`, then
 * `var { X } = API`). esbuild keeps all of that: evaluating `extends` of an imported binding, or a call,
 * might have side effects (github.com/evanw/esbuild/issues/1912), so importing ten resources took every
 * one (~94 KB minified). Rewritten as pure calls — `/* @__PURE__ *\/ (() => class extends … {…})()`, and one
 * preset per resource — an unused resource is dropped. The build fails if a gitbeaker release no longer
 * has those shapes, rather than silently shipping all of it again.
 */
const GITBEAKER: { file: RegExp; edit: (src: string) => string }[] = [
  {
    file: /[\\/]@gitbeaker[\\/]core[\\/]dist[\\/]index\.mjs$/,
    edit: (src) =>
      rewrite(src, /^var (\w+) = (class extends \w+ \{\n[\s\S]*?\n\});$/gm, 'var $1 = /* @__PURE__ */ (() => $2)();'),
  },
  {
    file: /[\\/]@gitbeaker[\\/]rest[\\/]dist[\\/]index\.mjs$/,
    edit: (src) =>
      rewrite(
        rewrite(
          src,
          /^var \{ AccessLevel, \.\.\.Resources \} = CORE;\nvar API = presetResourceArguments\(Resources, \{ requesterFn \}\);$/m,
          'var AccessLevel = CORE.AccessLevel;',
        ),
        /^var \{ (\w+) \} = API;$/gm,
        'var $1 = /* @__PURE__ */ (() => presetResourceArguments({ $1: CORE.$1 }, { requesterFn }).$1)();',
      ),
  },
];

function rewrite(src: string, pattern: RegExp, replacement: string | ((match: string) => string)): string {
  const out = typeof replacement === 'string' ? src.replace(pattern, replacement) : src.replace(pattern, replacement);
  if (out === src)
    throw new Error(`infra/bundle.ts: a dependency no longer matches ${pattern}; update the plugin that rewrites it`);
  return out;
}

const pureGitbeakerResources: Plugin = {
  name: 'pure-gitbeaker-resources',
  setup(b) {
    for (const { file, edit } of GITBEAKER)
      b.onLoad({ filter: file }, async (args) => ({ contents: edit(await readFile(args.path, 'utf8')), loader: 'js' }));
  },
};

/**
 * @noble/post-quantum's hybrid.js builds its QSF and KitchenSink KEMs at load, with calls that are not
 * marked pure as its other KEMs are (`/* @__PURE__ *\/`), so esbuild keeps them and the P-256, P-384 and
 * SHA-3 code they take (~30 KB minified), though age-encryption uses neither, and the worker only
 * decrypts (X25519 and ML-KEM-768+X25519 identities). Marked pure here, they drop out unless used.
 */
const pureHybridKems: Plugin = {
  name: 'pure-hybrid-kems',
  setup(b) {
    b.onLoad({ filter: /[\\/]@noble[\\/]post-quantum[\\/]hybrid\.js$/ }, async (args) => ({
      // Top-level `const X = QSF(…, ecdhKem(p256, true), …)` lines: each call in them, arguments included.
      contents: rewrite(
        await readFile(args.path, 'utf8'),
        /^(?:export )?const \w+ = (?:QSF|createKitchenSink|ecdhKem)\(.*$/gm,
        (line) => line.replace(/\b(QSF|createKitchenSink|ecdhKem)\(/g, '/* @__PURE__ */ $1('),
      ),
      loader: 'js',
    }));
  },
};

/**
 * @octokit/rest carries the route of every GitHub REST method (~83 KB minified, as one object literal that
 * @octokit/plugin-rest-endpoint-methods turns into `octokit.rest.<scope>.<method>`). fjord calls about a
 * dozen, each written `octokit.rest.<scope>.<method>(` in lib/: the bundles keep the routes of exactly
 * those, read from the sources at build time, with the plugin itself unchanged.
 */
const usedGithubEndpoints: Plugin = {
  name: 'used-github-endpoints',
  setup(b) {
    b.onLoad(
      { filter: /[\\/]@octokit[\\/]plugin-rest-endpoint-methods[\\/]dist-src[\\/]generated[\\/]endpoints\.js$/ },
      async (args) => {
        const all = (
          (await import(pathToFileURL(args.path).href)) as { default: Record<string, Record<string, unknown>> }
        ).default;
        const used: Record<string, Record<string, unknown>> = {};
        for (const [, scope, method] of (await githubRestCalls()).matchAll(/\.rest\.(\w+)\.(\w+)\(/g)) {
          const endpoint = all[scope!]?.[method!];
          if (!endpoint)
            throw new Error(
              `infra/bundle.ts: lib/ calls octokit.rest.${scope}.${method}, which @octokit/plugin-rest-endpoint-methods does not have`,
            );
          used[scope!] ??= {};
          used[scope!]![method!] = endpoint;
        }
        return { contents: `export default ${JSON.stringify(used)};`, loader: 'js' };
      },
    );
  },
};

/** Every TypeScript source under lib/, concatenated: where `octokit.rest.…(` calls are found. */
async function githubRestCalls(): Promise<string> {
  const files = (await readdir(join(ROOT, 'lib'), { recursive: true })).filter((f) => f.endsWith('.ts'));
  return (await Promise.all(files.map((f) => readFile(join(ROOT, 'lib', f), 'utf8')))).join('\n');
}

/**
 * qs (what @gitbeaker turns query objects into strings with, and reads pagination links with) takes
 * side-channel for its cycle check, and with it object-inspect, get-intrinsic and a dozen polyfill
 * packages (~35 KB minified) for engines without a WeakMap. qs-esm is qs with a native WeakMap instead
 * (github.com/payloadcms/qs-esm, forked from qs 6.12, security fixes backported): the bundles give it to
 * @gitbeaker, plus the default export gitbeaker's `import QS from 'qs'` reads.
 */
const qsWithoutPolyfills: Plugin = {
  name: 'qs-without-polyfills',
  setup(b) {
    b.onResolve({ filter: /^qs$/ }, (args) =>
      /[\\/]@gitbeaker[\\/]/.test(args.importer)
        ? { path: 'qs', namespace: 'fjord-qs', pluginData: args.resolveDir }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'fjord-qs' }, () => ({
      contents: "import * as qs from 'qs-esm'; export * from 'qs-esm'; export default qs;",
      loader: 'js',
      resolveDir: ROOT,
    }));
  },
};

/**
 * yaml's package exports a CommonJS build to Node (`"node": "./dist/index.js"`) and the same code as ES
 * modules to everything else (`"default": "./browser/index.js"`). esbuild can tree-shake and minify the
 * ES modules (their exports are renamed, CommonJS `exports.x` names are not): ~16 KB minified less in
 * every bundle. What the ES build does differently does not reach fjord: it returns `!!binary` values as a
 * Uint8Array rather than a Buffer (its subclass), prints warnings with console.warn rather than
 * process.emitWarning, and has no LOG_TOKENS / LOG_STREAM debugging.
 */
const yamlAsModules: Plugin = {
  name: 'yaml-as-modules',
  setup(b) {
    const pkg = createRequire(import.meta.url).resolve('yaml/package.json');
    const exports = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { default?: string }> })
      .exports;
    b.onResolve({ filter: /^yaml(\/util)?$/ }, (args) => {
      const entry = exports[args.path === 'yaml' ? '.' : './util']?.default;
      if (!entry) throw new Error(`infra/bundle.ts: yaml no longer exports an ES build of ${args.path}`);
      return { path: join(dirname(pkg), entry) };
    });
  },
};

/**
 * npm can install one package twice at the same version (age-encryption and @noble/post-quantum each
 * got their own @noble/curves and @noble/hashes 2.0.1, ~45 KB minified apiece), and esbuild bundles each
 * copy. Every import of a package resolves to the first copy of that name and version the build met.
 */
const oneCopyPerVersion: Plugin = {
  name: 'one-copy-per-version',
  setup(b) {
    const first = new Map<string, string>();
    b.onResolve({ filter: /^(@[^./][^/]*\/)?[^./][^/]*(\/.*)?$/ }, async (args) => {
      if (args.pluginData === oneCopyPerVersion || !args.importer.includes('node_modules')) return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: oneCopyPerVersion,
      });
      const root = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(found.path)?.[1];
      if (found.errors.length || found.external || !root) return found.errors.length ? undefined : found;
      const { name, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, string>;
      const key = `${name}@${version}`;
      if (!first.has(key)) first.set(key, root);
      const kept = first.get(key)!;
      return { ...found, path: kept + found.path.slice(root.length) };
    });
  },
};

const common: BuildOptions = {
  bundle: true,
  minify: true,
  format: 'esm',
  legalComments: 'none',
  metafile: true,
  logLevel: 'error',
  sourcemap: false,
  plugins: [
    zodWithoutLocales,
    zodWithoutJsonSchema,
    slimDependencies,
    pureGitbeakerResources,
    usedGithubEndpoints,
    qsWithoutPolyfills,
    yamlAsModules,
    oneCopyPerVersion,
    pureHybridKems,
  ],
};

/** `functions/<entry>.ts` → `<outDir>/index.mjs` (+ `fjord.yaml` when `configFile` is given). */
export async function bundleLambda(
  entry: LambdaEntry,
  { outDir = join(ROOT, 'dist/lambda', entry), configFile }: { outDir?: string; configFile?: string } = {},
): Promise<Bundle> {
  // The worker takes the AWS SDK v3 from the Lambda Node.js runtime, which provides it
  // (docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html); the receiver and the reconcile scheduler only
  // send, with a signed fetch, and carry no SDK at all.
  const bundle = await bundleForNode(
    join(ROOT, 'functions', `${entry}.ts`),
    join(outDir, 'index.mjs'),
    entry === 'lambda-worker' ? ['@aws-sdk/*'] : [],
  );
  if (configFile) copyFileSync(configFile, join(outDir, 'fjord.yaml'));
  return bundle;
}

/**
 * Any module → one ES module for Node, built as the Lambda functions are (same plugins and externals), so a
 * test can run part of lib/ as it is deployed.
 */
export async function bundleForNode(entryPoint: string, file: string, external: string[] = []): Promise<Bundle> {
  const { metafile, outputFiles } = await build({
    ...common,
    entryPoints: [entryPoint],
    outfile: file,
    platform: 'node',
    target: 'node20',
    ...KEEP_IDENTIFIERS,
    // CommonJS dependencies call require() for Node built-ins and read __dirname (ssh2's agent.js, at
    // load), neither of which an ES module has.
    banner: {
      js: "import { createRequire as __fjordRequire } from 'node:module'; import { fileURLToPath as __fjordPath } from 'node:url'; const require = __fjordRequire(import.meta.url); const __filename = __fjordPath(import.meta.url); const __dirname = __fjordPath(new URL('.', import.meta.url));",
    },
    // ssh2's optional native add-ons: it falls back to pure JS when they are absent.
    external: ['cpu-features', '*.node', ...external],
    write: false,
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, (await minify(namingClasses(outputFiles[0]!.text), SWC)).code);
  return measure(file, metafile);
}

/**
 * A second minifier over esbuild's output, for the Node bundles: esbuild removes dead code only between
 * top-level statements and does not inline across them (github.com/evanw/esbuild/issues/639); swc's
 * compressor does, which measured 4% smaller gzipped (the Lambda worker 261 → 250 KB) for ~2 s of CPU a
 * build. ES2022 output, as Node 20 runs it. Class names are kept (see namingClasses).
 */
const SWC: JsMinifyOptions = {
  module: true,
  ecma: 2022,
  compress: { ecma: 2022, keep_classnames: true },
  mangle: { topLevel: true, keep_classnames: true },
};

/**
 * A class's name is its error's name (lib/errors.ts: `this.name = new.target.name`), shown in outcomes, notes
 * and logs. esbuild writes each class as `var Name = class …` (or `…,Name=class …`), named only by its
 * variable, which a minifier renames or inlines; `Name=class Name …` names the class itself, which swc keeps
 * (`keep_classnames`). Costs 2 KB gzip on the Lambda worker, where esbuild's `keepNames` costs 17 KB.
 */
export const namingClasses = (code: string): string =>
  code.replace(/(?<![\w$.])([A-Za-z_$][\w$]*)=class(?= extends\b|\{)/g, '$1=class $1');

/** esbuild minifies all but names, which swc mangles after `namingClasses`. */
const KEEP_IDENTIFIERS: BuildOptions = { minify: false, minifyWhitespace: true, minifySyntax: true };

/** `functions/workers-receiver.ts` → one ES module for workerd (nodejs_compat provides the `node:` built-ins). */
export async function bundleWorkers({
  outFile = join(ROOT, 'dist/workers/receiver.mjs'),
}: {
  outFile?: string;
} = {}): Promise<Bundle> {
  const { metafile, outputFiles } = await build({
    ...common,
    ...KEEP_IDENTIFIERS,
    entryPoints: [join(ROOT, 'functions/workers-receiver.ts')],
    outfile: outFile,
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    // Provided by workerd under nodejs_compat (https://developers.cloudflare.com/workers/runtime-apis/nodejs/).
    external: ['node:*'],
    write: false,
  });
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, (await minify(namingClasses(outputFiles[0]!.text), SWC)).code);
  return measure(outFile, metafile);
}

function measure(file: string, metafile: Metafile | undefined): Bundle {
  mkdirSync(dirname(file), { recursive: true });
  const bytes = readFileSync(file);
  return {
    file,
    dir: dirname(file),
    bytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    packages: packageBytes(metafile),
  };
}

/** Minified bytes each package (`lib/`, `functions/` for fjord's own) adds to the output, largest first. */
function packageBytes(metafile: Metafile | undefined): Record<string, number> {
  const sum = new Map<string, number>();
  for (const output of Object.values(metafile?.outputs ?? {})) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/')[0]!;
      sum.set(name, (sum.get(name) ?? 0) + bytesInOutput);
    }
  }
  return Object.fromEntries([...sum].sort((a, b) => b[1] - a[1]));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const what = process.argv[2] ?? 'all';
  const out: Bundle[] = [];
  if (what === 'workers' || what === 'all') out.push(await bundleWorkers());
  if (what === 'lambda' || what === 'all')
    out.push(
      await bundleLambda('lambda-receiver'),
      await bundleLambda('lambda-worker'),
      await bundleLambda('reconcile'),
    );
  for (const b of out) {
    console.log(`${b.file}: ${b.bytes} bytes, ${b.gzipBytes} gzipped`);
    if (process.argv.includes('--packages'))
      for (const [name, n] of Object.entries(b.packages)) console.log(`  ${String(n).padStart(8)}  ${name}`);
  }
}

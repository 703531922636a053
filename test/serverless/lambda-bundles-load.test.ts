/**
 * The Lambda bundles as deployed (infra/bundle.ts) load in a fresh Node process with a deployed function's
 * environment and export their handler — the first thing a cold start does. The bundles are written under
 * the repository's dist/, so `@aws-sdk/client-sqs` (external: the Lambda runtime provides it) resolves from
 * node_modules as it does from the runtime's.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { deployedFunctionEnv } from '../../bench/bundles.js';
import { bundleLambda, ROOT, type LambdaEntry } from '../../infra/bundle.js';

mkdirSync(join(ROOT, 'dist'), { recursive: true });
const out = mkdtempSync(join(ROOT, 'dist', 'test-bundles-'));
after(() => rmSync(out, { recursive: true, force: true }));

const env = deployedFunctionEnv();

/** `typeof handler` of the bundle, imported in a fresh process; throws with the child's error otherwise. */
function handlerType(file: string): string {
  const script = `const m = await import(${JSON.stringify(file)}); process.stdout.write(typeof m.handler);`;
  try {
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // Node prints the minified source line above the error: keep the error line only.
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    throw new Error(stderr.split('\n').find((l) => /^\w*Error\b/.test(l)) ?? stderr.slice(-300));
  }
}

describe('Lambda bundles', () => {
  for (const entry of ['lambda-worker', 'lambda-receiver', 'reconcile'] as LambdaEntry[]) {
    it(`the ${entry} bundle loads in a fresh process and exports its handler`, async () => {
      const bundle = await bundleLambda(entry, { outDir: join(out, entry) });
      assert.equal(handlerType(bundle.file), 'function');
    });
  }

  it('the worker bundle, all the code its asset ships, is at most 256,000 bytes gzipped (issue 15)', async () => {
    const bundle = await bundleLambda('lambda-worker', { outDir: join(out, 'budget') });
    // One file: nothing split off to load later, so its size is the asset's code.
    assert.deepEqual(readdirSync(bundle.dir), ['index.mjs']);
    assert.ok(bundle.gzipBytes <= 256_000, `the worker bundle is ${bundle.gzipBytes} bytes gzipped`);
  });

  it('the worker bundle holds ssh2 without its SSH server and rate-limiter-flexible without its database limiters', async () => {
    const bundle = await bundleLambda('lambda-worker', { outDir: join(out, 'slim') });
    const text = readFileSync(bundle.file, 'utf8');
    // Messages only ssh2's lib/server.js and rate-limiter-flexible's Redis and Mongo limiters carry.
    for (const marker of [
      'Change request already in progress',
      'Redis connection is not ready',
      'Mongo connection is not established',
    ]) {
      assert.equal(text.includes(marker), false, `the worker bundle still holds ${JSON.stringify(marker)}`);
    }
    assert.match(text, /SFTP/, 'ssh2 client is in the bundle');
  });

  it('the worker bundle holds ssh2 without its SFTP subsystem', async () => {
    const text = readFileSync((await bundleLambda('lambda-worker', { outDir: join(out, 'no-sftp') })).file, 'utf8');
    // Messages only ssh2's lib/protocol/SFTP.js carries.
    for (const marker of ['Duplicate VERSION packet', 'Malformed ATTRS packet'])
      assert.equal(text.includes(marker), false, `the worker bundle still holds ${JSON.stringify(marker)}`);
    assert.match(text, /Received unexpected SFTP session termination/, 'ssh2 client is in the bundle');
  });

  it('the worker bundle holds only the gitbeaker resources fjord imports', async () => {
    const text = readFileSync((await bundleLambda('lambda-worker', { outDir: join(out, 'gitbeaker') })).file, 'utf8');
    // Endpoints of resources fjord never uses (Sidekiq metrics, Conan packages) vs. one it does (repository files).
    for (const marker of ['sidekiq/queue_metrics', 'packages/conan/v1'])
      assert.equal(text.includes(marker), false, `the worker bundle still holds ${JSON.stringify(marker)}`);
    assert.match(text, /repository\/files/, 'RepositoryFiles is in the bundle');
  });

  it('the worker bundle holds the routes of the GitHub REST methods fjord calls and no others', async () => {
    const text = readFileSync((await bundleLambda('lambda-worker', { outDir: join(out, 'github') })).file, 'utf8');
    // Routes of methods fjord never calls (Actions runners, gists) vs. one it does (commit statuses).
    for (const marker of ['/orgs/{org}/actions/runners/{runner_id}/labels', 'GET /gists/{gist_id}'])
      assert.equal(text.includes(marker), false, `the worker bundle still holds ${JSON.stringify(marker)}`);
    assert.match(text, /POST \/repos\/\{owner\}\/\{repo\}\/statuses\/\{sha\}/, 'createCommitStatus is in the bundle');
  });

  it('the bundles hold zod without its JSON Schema converters', async () => {
    for (const entry of ['lambda-worker', 'lambda-receiver'] as LambdaEntry[]) {
      const text = readFileSync((await bundleLambda(entry, { outDir: join(out, `zod-${entry}`) })).file, 'utf8');
      // A message only zod's classic/from-json-schema.js carries: kept when `z` is imported as a binding
      // (`import { z }`) rather than as the namespace (`import * as z`), which esbuild tree-shakes.
      assert.equal(
        text.includes('Conditional schemas (if/then/else) are not supported'),
        false,
        `the ${entry} bundle still holds zod's fromJSONSchema`,
      );
    }
  });

  it('the bundles hold zod without its JSON Schema generator, and their config errors still name the path', async () => {
    for (const entry of ['lambda-worker', 'lambda-receiver'] as LambdaEntry[]) {
      const text = readFileSync((await bundleLambda(entry, { outDir: join(out, `zod-gen-${entry}`) })).file, 'utf8');
      // Messages only zod's core/to-json-schema.js and core/json-schema-processors.js carry.
      for (const marker of ['Error converting schema to JSON.', 'Pattern not found in template literal'])
        assert.equal(text.includes(marker), false, `the ${entry} bundle still holds ${JSON.stringify(marker)}`);
    }
    // A deployed worker whose fjord.yaml is wrong fails its cold start with zod's error, path and all.
    const bundle = await bundleLambda('lambda-worker', { outDir: join(out, 'zod-gen-config') });
    const bad = env.FJORD_CONFIG_YAML!.replace(/^(\s+)batchSize: \d+$/m, '$1batchSize: -1');
    assert.notEqual(bad, env.FJORD_CONFIG_YAML, 'examples/fjord.yaml has a batchSize to break');
    const child = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(bundle.file)});`],
      { env: { ...env, FJORD_CONFIG_YAML: bad }, encoding: 'utf8' },
    );
    assert.notEqual(child.status, 0);
    assert.match(
      child.stderr,
      /apps\.api\.environments\.staging\.rollout\.batchSize: Too small: expected number to be >0/,
    );
  });
});

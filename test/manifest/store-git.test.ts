import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gitCommands } from '../../lib/manifest/git-commands.js';
import { GitManifestStore } from '../../lib/manifest/store-git.js';
import { ManifestNotFound, ManifestStoreError } from '../../lib/manifest/store-errors.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { FILE, setTag, VALUES } from './helpers.js';
import { STORE_AUTHOR, storeContract } from './store-contract.js';

storeContract('git', async (repo) => {
  const dirs: string[] = [];
  return {
    // Each store gets its own data dir, as two worker processes would.
    makeStore: () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fjord-data-'));
      dirs.push(dataDir);
      return new GitManifestStore({ repository: repo.bare, branch: 'main', dataDir, author: STORE_AUTHOR });
    },
    close: async () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
});

describe('git store specifics', () => {
  const withRepo = async (fn: (repo: ReturnType<typeof createBareRepo>, dataDir: string) => Promise<void>) => {
    const repo = createBareRepo({ [FILE]: VALUES });
    const dataDir = mkdtempSync(join(tmpdir(), 'fjord-data-'));
    try {
      await fn(repo, dataDir);
    } finally {
      repo.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  it('builds argv arrays that keep paths behind -- and refuse option-like values', () => {
    assert.equal(
      gitCommands.lastCommitFor('abc1234', 'prod/values.yaml').join(' '),
      '--literal-pathspecs log -1 --format=%H abc1234 -- prod/values.yaml',
    );
    assert.equal(
      gitCommands.push('abc1234', 'fjord/api-prod-1.0', { force: true }).join(' '),
      'push --porcelain --no-verify origin +abc1234:refs/heads/fjord/api-prod-1.0',
    );
    assert.throws(() => gitCommands.lsTree('HEAD', '--output=/tmp/x'), ManifestStoreError);
    assert.throws(() => gitCommands.lsTree('HEAD', '../outside'), ManifestStoreError);
    assert.throws(() => gitCommands.catBlob('--all'), ManifestStoreError);
    assert.throws(() => gitCommands.fetch('-main'), ManifestStoreError);
  });

  it('openMergeRequest pushes a branch and says there is no merge request in plain git', async () => {
    await withRepo(async (repo, dataDir) => {
      const store = new GitManifestStore({ repository: `file://${repo.bare}`, branch: 'main', dataDir });
      const read = await store.read(FILE);
      const result = await store.openMergeRequest({
        file: FILE,
        content: setTag('api', '1.1.0')(read.content)!,
        message: 'deploy',
        title: 't',
        sourceBranch: 'fjord/api-prod-1.1.0',
      });
      assert.deepEqual(result, { sourceBranch: 'fjord/api-prod-1.1.0', kind: 'branch' });
      assert.match(repo.git(['branch', '--list']), /fjord\/api-prod-1\.1\.0/);
    });
  });

  it('gets past lock files a killed git left in its cache: retryable while fresh, cleared once stale', async () => {
    await withRepo(async (repo, dataDir) => {
      const first = new GitManifestStore({ repository: repo.bare, branch: 'main', dataDir });
      await first.read(FILE);
      const [cache] = readdirSync(dataDir);
      const locks = ['refs/remotes/origin/main.lock', 'config.lock'].map((f) => join(dataDir, cache!, f));
      // What `kill -9` of the worker in the middle of a fetch (and of a `git init`) leaves behind.
      for (const lock of locks) writeFileSync(lock, '');
      const restarted = new GitManifestStore({ repository: repo.bare, branch: 'main', dataDir });
      await assert.rejects(
        restarted.read(FILE),
        (err: unknown) => err instanceof ManifestStoreError && err.transient && /lock/.test(err.message),
      );
      const old = new Date(Date.now() - 60_000);
      for (const lock of locks) utimesSync(lock, old, old);
      const next = repo.pushChange(FILE, setTag('api', '2.0.0')(VALUES)!, 'bump');
      const read = await restarted.read(FILE);
      assert.equal(read.commitId, next);
      assert.ok(locks.every((lock) => !existsSync(lock)));
      await restarted.commit({
        file: FILE,
        content: setTag('api', '2.0.1')(read.content)!,
        lastCommitId: read.commitId,
        message: 'deploy',
      });
    });
  });

  it('names a missing branch and an unreachable repository', async () => {
    await withRepo(async (repo, dataDir) => {
      const noBranch = new GitManifestStore({ repository: repo.bare, branch: 'release', dataDir });
      await assert.rejects(
        noBranch.read(FILE),
        (err: unknown) => err instanceof ManifestNotFound && /branch release does not exist/.test(err.message),
      );
      const nowhere = new GitManifestStore({
        repository: join(repo.root, 'nope.git'),
        branch: 'main',
        dataDir: join(dataDir, 'other'),
      });
      await assert.rejects(
        nowhere.read(FILE),
        (err: unknown) =>
          err instanceof ManifestStoreError &&
          err.transient &&
          /cannot fetch the manifest repository/.test(err.message),
      );
    });
  });

  it('keeps the file mode and every other file of the tree', async () => {
    await withRepo(async (repo, dataDir) => {
      const store = new GitManifestStore({ repository: repo.bare, branch: 'main', dataDir });
      repo.pushChange('deploy.sh', '#!/bin/sh\n', 'script');
      repo.git(['ls-tree', 'main']);
      const read = await store.read(FILE);
      await store.commit({
        file: FILE,
        content: setTag('api', '1.1.0')(read.content)!,
        lastCommitId: read.commitId,
        message: 'deploy',
      });
      assert.equal(repo.git(['diff', '--name-only', 'main~1', 'main']), `${FILE}\n`);
      assert.equal(repo.git(['ls-tree', 'main', '--', FILE]).split(' ')[0], '100644');
    });
  });
});

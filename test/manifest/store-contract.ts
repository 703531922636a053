/**
 * The behaviour every `ManifestStore` backend must show, run against real repositories by
 * `store-git.test.ts` (a bare repository) and `store-gitlab.test.ts` (the GitLab stand-in over one).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { buildCommitMessage } from '../../lib/manifest/commit-message.js';
import { commitWithRetry } from '../../lib/manifest/commit-with-retry.js';
import { mergeRequestBranch, type Author, type ManifestStore } from '../../lib/manifest/store.js';
import { ManifestConflict, ManifestNotFound } from '../../lib/manifest/store-errors.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { barrier, FILE, gatedOnFirstRead, job, setTag, tagOf, VALUES, wrapStore } from './helpers.js';

export const STORE_AUTHOR: Author = { name: 'fjord', email: 'fjord@example.com' };

export interface StoreFixture {
  /** A new store instance (another worker) over the repository, with `STORE_AUTHOR` as default author. */
  makeStore(): ManifestStore;
  close(): Promise<void>;
}

export function storeContract(backend: string, open: (repo: TestRepo) => Promise<StoreFixture>): void {
  describe(`ManifestStore contract: ${backend}`, () => {
    let cleanups: Array<() => Promise<void> | void> = [];
    afterEach(async () => {
      for (const c of cleanups.reverse()) await c();
      cleanups = [];
    });
    const setup = async () => {
      const repo = createBareRepo({ [FILE]: VALUES, 'staging/values.yaml': VALUES, 'README.md': '# manifests\n' });
      cleanups.push(() => repo.cleanup());
      const fixture = await open(repo);
      cleanups.push(() => fixture.close());
      return { repo, fixture, store: fixture.makeStore(), head: () => repo.git(['rev-parse', 'main']).trim() };
    };

    it('read returns the content, the file’s last commit and the branch head', async () => {
      const { repo, store, head } = await setup();
      const initial = head();
      const other = repo.pushChange('README.md', '# changed\n', 'docs');
      const file = await store.read(FILE);
      assert.equal(file.content, VALUES);
      assert.equal(file.commitId, initial);
      assert.equal(file.headId, other);
      await assert.rejects(store.read('prod/missing.yaml'), ManifestNotFound);
    });

    it('commits a real git commit: one changed line, default author, Fjord trailers', async () => {
      const { repo, store, head } = await setup();
      const before = head();
      const message = buildCommitMessage(job('api', '1.1.0'));
      const outcome = await commitWithRetry(store, FILE, setTag('api', '1.1.0'), message, { backoffMs: 0 });
      assert.equal(outcome.changed, true);
      assert.equal(outcome.commitId, head());
      assert.equal(repo.git(['rev-parse', 'main~1']).trim(), before);
      assert.equal(repo.git(['diff', '--numstat', 'main~1', 'main']), `1\t1\t${FILE}\n`);
      assert.equal(tagOf(repo.git(['show', `main:${FILE}`]), 'api'), '1.1.0');
      assert.equal(
        repo.git(['log', '-1', '--format=%an <%ae>|%s', 'main']).trim(),
        'fjord <fjord@example.com>|deploy(api/prod): registry.example.com/acme/api:1.1.0',
      );
      // git's own trailer parser reads what fjord wrote.
      const trailers = repo.git(['interpret-trailers', '--parse'], repo.git(['log', '-1', '--format=%B', 'main']));
      assert.match(trailers, /^Fjord-Job: job-api-1_1_0$/m);
      assert.match(trailers, /^Fjord-Source: acme\/api@c0ffee0+$/m);
      assert.match(trailers, /^Fjord-MR: acme\/api!7$/m);
      assert.match(trailers, /^Fjord-Author: Ada Person$/m);
    });

    it('commits with the author asked for', async () => {
      const { repo, store } = await setup();
      const ada = { name: 'Ada Person', email: 'ada@example.com' };
      await commitWithRetry(
        store,
        FILE,
        setTag('api', '2.0.0'),
        buildCommitMessage(job('api', '2.0.0', { reason: 'manual' })),
        { author: ada, backoffMs: 0 },
      );
      assert.equal(repo.git(['log', '-1', '--format=%an <%ae>', 'main']).trim(), 'Ada Person <ada@example.com>');
    });

    it('is a no-op when the file already says it: no commit', async () => {
      const { store, head } = await setup();
      const before = head();
      const outcome = await commitWithRetry(store, FILE, setTag('api', '1.0.0'), 'unused', { backoffMs: 0 });
      assert.deepEqual(outcome, { changed: false, commitId: before, attempts: 1, conflicts: 0 });
      assert.equal(head(), before);
    });

    it('history lists the file’s commits newest first, with trailers; limit applies', async () => {
      const { repo, store } = await setup();
      await commitWithRetry(store, FILE, setTag('api', '1.1.0'), buildCommitMessage(job('api', '1.1.0')), {
        backoffMs: 0,
      });
      repo.pushChange('README.md', '# unrelated\n', 'docs: unrelated');
      await commitWithRetry(
        store,
        FILE,
        setTag('api', '1.2.0'),
        buildCommitMessage(job('api', '1.2.0', { reason: 'rollback' })),
        { backoffMs: 0 },
      );
      const history = await store.history(FILE, { limit: 10 });
      assert.deepEqual(
        history.map((h) => [h.trailers['Fjord-Tag'], h.trailers['Fjord-Reason'], h.author.name]),
        [
          ['1.2.0', 'rollback', 'fjord'],
          ['1.1.0', 'merge', 'fjord'],
          [undefined, undefined, 'Ada Person'],
        ],
      );
      assert.equal(history[0]!.commitId, repo.git(['rev-parse', 'main']).trim());
      assert.match(history[0]!.authoredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
      assert.equal((await store.history(FILE, { limit: 1 })).length, 1);
      assert.equal(await store.readAt(FILE, history[2]!.commitId), VALUES);
      assert.equal(tagOf(await store.readAt(FILE, history[1]!.commitId), 'api'), '1.1.0');
    });

    it('refuses a stale lastCommitId with ManifestConflict and writes nothing', async () => {
      const { repo, store, head } = await setup();
      const read = await store.read(FILE);
      const person = repo.pushChange(FILE, VALUES.replace('worker:', 'worker: # by hand'), 'hand edit');
      const stale = store.commit({
        file: FILE,
        content: setTag('api', '9.9.9')(read.content)!,
        lastCommitId: read.commitId,
        message: 'stale',
      });
      await assert.rejects(stale, ManifestConflict);
      assert.equal(head(), person);
    });

    it('does not conflict when another file moved the branch', async () => {
      const { repo, store } = await setup();
      const read = await store.read(FILE);
      const person = repo.pushChange('staging/values.yaml', VALUES.replace('1.0.0', '0.9.0'), 'staging by hand');
      const result = await store.commit({
        file: FILE,
        content: setTag('api', '1.1.0')(read.content)!,
        lastCommitId: read.commitId,
        message: 'deploy',
      });
      assert.equal(repo.git(['rev-parse', `${result.commitId}~1`]).trim(), person);
      assert.equal(tagOf(repo.git(['show', 'main:staging/values.yaml']), 'api'), '0.9.0');
    });

    it('two workers racing on one file: one conflicts and retries, both changes land in order', async () => {
      const { repo, fixture, head } = await setup();
      const start = head();
      const arrive = barrier(2);
      const a = gatedOnFirstRead(fixture.makeStore(), arrive);
      const b = gatedOnFirstRead(fixture.makeStore(), arrive);
      const conflicts: string[] = [];
      const [ra, rb] = await Promise.all([
        commitWithRetry(a, FILE, setTag('api', '2.0.0'), buildCommitMessage(job('api', '2.0.0')), {
          onConflict: () => conflicts.push('api'),
          backoffMs: 0,
        }),
        commitWithRetry(b, FILE, setTag('worker', '3.0.0'), buildCommitMessage(job('worker', '3.0.0')), {
          onConflict: () => conflicts.push('worker'),
          backoffMs: 0,
        }),
      ]);
      assert.equal(conflicts.length, 1, 'exactly one worker lost the race');
      const [winner, loser] = conflicts[0] === 'api' ? [rb, ra] : [ra, rb];
      assert.deepEqual([winner.attempts, loser.attempts], [1, 2]);
      // In order: start → winner → loser (the retry sits on the winner's commit), nothing else.
      assert.deepEqual(
        repo
          .git(['rev-list', '--first-parent', `${start}..main`])
          .trim()
          .split('\n'),
        [loser.commitId, winner.commitId],
      );
      assert.equal(repo.git(['rev-parse', `${loser.commitId}~1`]).trim(), winner.commitId);
      // Nothing overwritten: each commit changed one line, and the file holds both tags.
      for (const id of [winner.commitId, loser.commitId])
        assert.equal(repo.git(['diff', '--numstat', `${id}~1`, id]), `1\t1\t${FILE}\n`);
      const final = repo.git(['show', `main:${FILE}`]);
      assert.deepEqual([tagOf(final, 'api'), tagOf(final, 'worker')], ['2.0.0', '3.0.0']);
      assert.equal(final.split('\n')[0], VALUES.split('\n')[0]);
      const subjects = repo
        .git(['log', '--format=%s', `${start}..main`])
        .trim()
        .split('\n');
      assert.deepEqual(subjects.sort(), [
        'deploy(api/prod): registry.example.com/acme/api:2.0.0',
        'deploy(worker/prod): registry.example.com/acme/worker:3.0.0',
      ]);
    });

    it('gives up with ManifestConflict after the attempts, committing nothing', async () => {
      const { repo, fixture, head } = await setup();
      const inner = fixture.makeStore();
      let n = 0;
      // Someone pushes to the same file between every read and commit: a real conflict each time.
      const busy = wrapStore(inner, {
        commit(request) {
          repo.pushChange(FILE, VALUES + `# edit ${++n}\n`, `edit ${n}`);
          return inner.commit(request);
        },
      });
      await assert.rejects(
        commitWithRetry(busy, FILE, setTag('api', '5.0.0'), 'never', { attempts: 3, backoffMs: 0 }),
        (err: unknown) => err instanceof ManifestConflict && /after 3 attempts/.test(err.message),
      );
      assert.equal(n, 3);
      assert.equal(repo.git(['log', '-1', '--format=%s', 'main']).trim(), 'edit 3');
      assert.equal(tagOf(repo.git(['show', `${head()}:${FILE}`]), 'api'), '1.0.0');
    });

    it('openMergeRequest puts the change on its own branch from the read head; the branch is untouched', async () => {
      const { repo, store, head } = await setup();
      const before = head();
      const read = await store.read(FILE);
      const sourceBranch = mergeRequestBranch('api', 'prod', '1.1.0');
      const request = {
        file: FILE,
        content: setTag('api', '1.1.0')(read.content)!,
        message: buildCommitMessage(job('api', '1.1.0')),
        title: 'Deploy api 1.1.0 to prod',
        sourceBranch,
        baseCommitId: read.headId,
      };
      const first = await store.openMergeRequest(request);
      assert.equal(first.sourceBranch, 'fjord/api-prod-1.1.0');
      assert.equal(head(), before);
      assert.equal(repo.git(['rev-parse', `${sourceBranch}~1`]).trim(), read.headId);
      assert.equal(tagOf(repo.git(['show', `${sourceBranch}:${FILE}`]), 'api'), '1.1.0');
      // Proposing again (a redelivered job) rewrites the branch instead of stacking commits.
      const again = await store.openMergeRequest(request);
      assert.equal(again.iid, first.iid);
      assert.equal(repo.git(['rev-parse', `${sourceBranch}~1`]).trim(), read.headId);
    });
  });
}

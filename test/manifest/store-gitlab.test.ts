import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import { GitlabManifestStore } from '../../lib/manifest/store-gitlab.js';
import { ManifestStoreError } from '../../lib/manifest/store-errors.js';
import { Secret } from '../../lib/secret.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { FILE, setTag, tagOf, VALUES } from './helpers.js';
import { STORE_AUTHOR, storeContract } from './store-contract.js';

const PROJECT = 'acme/manifests';

storeContract('gitlab (REST stand-in)', async (repo) => {
  const gitlab = await startGitlabStandIn({ projects: { [PROJECT]: { repo: repo.bare } } });
  return {
    makeStore: () =>
      new GitlabManifestStore({
        url: gitlab.url,
        token: new Secret(gitlab.token),
        project: PROJECT,
        branch: 'main',
        author: STORE_AUTHOR,
      }),
    close: () => gitlab.close(),
  };
});

describe('gitlab store specifics', () => {
  const REVIEWER = 'glpat-reviewer-token-0001';
  const withStandIn = async (
    fn: (ctx: {
      repo: ReturnType<typeof createBareRepo>;
      gitlab: Awaited<ReturnType<typeof startGitlabStandIn>>;
      store: GitlabManifestStore;
    }) => Promise<void>,
  ) => {
    const repo = createBareRepo({ [FILE]: VALUES });
    const gitlab = await startGitlabStandIn({
      projects: { [PROJECT]: { repo: repo.bare } },
      tokens: {
        'glpat-fjord-token-0001': { username: 'fjord-bot', name: 'fjord bot', email: 'bot@example.com' },
        [REVIEWER]: { username: 'rev', name: 'Rita Reviewer', email: 'rita@example.com' },
      },
    });
    try {
      await fn({
        repo,
        gitlab,
        store: new GitlabManifestStore({
          url: `${gitlab.url}/`,
          token: new Secret(gitlab.token),
          project: PROJECT,
          branch: 'main',
        }),
      });
    } finally {
      await gitlab.close();
      repo.cleanup();
    }
  };

  it('sends last_commit_id inside the update action, and the token user commits', async () => {
    await withStandIn(async ({ repo, gitlab, store }) => {
      const read = await store.read(FILE);
      await store.commit({
        file: FILE,
        content: setTag('api', '1.1.0')(read.content)!,
        lastCommitId: read.commitId,
        message: 'deploy',
      });
      const post = gitlab.state.requests.find(
        (r) => r.method === 'POST' && r.path === `/projects/${PROJECT}/repository/commits`,
      );
      assert.deepEqual((post?.body as { actions: unknown[] } | undefined)?.actions, [
        { action: 'update', file_path: FILE, content: setTag('api', '1.1.0')(VALUES), last_commit_id: read.commitId },
      ]);
      assert.equal(repo.git(['log', '-1', '--format=%cn', 'main']).trim(), 'fjord bot');
    });
  });

  it('a numeric project id works like the path', async () => {
    await withStandIn(async ({ gitlab }) => {
      const byId = new GitlabManifestStore({
        url: gitlab.url,
        token: new Secret(gitlab.token),
        project: 1,
        branch: 'main',
      });
      assert.equal((await byId.read(FILE)).content, VALUES);
    });
  });

  it('a refused token is a ManifestStoreError that does not contain the token', async () => {
    await withStandIn(async ({ gitlab }) => {
      const wrong = 'glpat-wrong-token-123456';
      const store = new GitlabManifestStore({
        url: gitlab.url,
        token: new Secret(wrong),
        project: PROJECT,
        branch: 'main',
      });
      const err = await store.read(FILE).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ManifestStoreError, String(err));
      assert.match(err.message, /refused the API token \(401\)/);
      assert.equal(err.transient, false, 'a refused token does not fix itself');
      assert.ok(!JSON.stringify({ ...err, message: err.message }).includes(wrong));
      assert.equal(gitlab.state.requests.at(-1)?.status, 401);
    });
  });

  it('an unreachable GitLab is a ManifestStoreError naming the host', async () => {
    const store = new GitlabManifestStore({
      url: 'http://127.0.0.1:9',
      token: new Secret('glpat-unused-000000'),
      project: PROJECT,
      branch: 'main',
      timeoutMs: 5000,
    });
    await assert.rejects(
      store.read(FILE),
      (err: unknown) =>
        err instanceof ManifestStoreError &&
        err.transient &&
        /cannot reach GitLab at http:\/\/127\.0\.0\.1:9/.test(err.message),
    );
  });

  it('opens one merge request; a reviewer merging it makes a real merge commit fjord then reads', async () => {
    await withStandIn(async ({ repo, gitlab, store }) => {
      const read = await store.read(FILE);
      const request = {
        file: FILE,
        content: setTag('api', '1.1.0')(read.content)!,
        message: 'deploy(api/prod): 1.1.0',
        title: 'Deploy api 1.1.0 to prod',
        description: 'from fjord',
        sourceBranch: 'fjord/api-prod-1.1.0',
        baseCommitId: read.headId,
      };
      const mr = await store.openMergeRequest(request);
      assert.equal(mr.kind, 'merge-request');
      assert.equal(mr.webUrl, `${gitlab.url}/${PROJECT}/-/merge_requests/${mr.iid}`);
      assert.equal((await store.openMergeRequest(request)).iid, mr.iid);
      assert.equal(gitlab.state.mergeRequests.length, 1);
      assert.deepEqual(
        [gitlab.state.mergeRequests[0]!.targetBranch, gitlab.state.mergeRequests[0]!.description],
        ['main', 'from fjord'],
      );

      const reviewer = new Gitlab({ host: gitlab.url, token: REVIEWER });
      const merged = await reviewer.MergeRequests.merge(PROJECT, mr.iid!);
      assert.equal(merged.state, 'merged');
      const parents = repo.git(['rev-list', '--parents', '-n1', 'main']).trim().split(' ');
      assert.equal(parents.length, 3, 'a merge commit has two parents');
      assert.equal(parents[0], merged.merge_commit_sha);
      assert.equal(repo.git(['log', '-1', '--format=%an', 'main']).trim(), 'Rita Reviewer');
      assert.doesNotMatch(repo.git(['branch', '--list']), /fjord\/api-prod/, 'source branch removed after merge');
      assert.equal(tagOf((await store.read(FILE)).content, 'api'), '1.1.0');
      const history = await store.history(FILE);
      assert.equal(history[0]!.message.split('\n')[0], 'deploy(api/prod): 1.1.0');
    });
  });
});

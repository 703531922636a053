/**
 * The GitLab stand-in itself, driven through @gitbeaker/rest as fjord drives it: the endpoints later
 * helpers rely on (statuses, notes, deployments, compare, branches, merge requests) behave as documented.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';

const APP = 'acme/api';
const MANIFESTS = 'acme/manifests';
const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { cause?: { response?: { status?: number } } }) => e.cause?.response?.status,
  );

describe('GitLab stand-in', () => {
  let gitlab: GitlabStandIn;
  let api: InstanceType<typeof Gitlab<false>>;
  let app: TestRepo;
  let manifests: TestRepo;
  let appSha: string;

  before(async () => {
    app = createBareRepo({ 'src/main.go': 'package main\n' }, { name: 'api' });
    manifests = createBareRepo({ 'prod/values.yaml': 'tag: "1"\n', 'README.md': 'x\n' });
    appSha = app.pushChange('src/main.go', 'package main // v2\n', 'feat: v2');
    gitlab = await startGitlabStandIn({
      projects: { [APP]: { repo: app.bare }, [MANIFESTS]: { repo: manifests.bare } },
    });
    api = new Gitlab({ host: gitlab.url, token: gitlab.token });
  });
  after(async () => {
    await gitlab.close();
    app.cleanup();
    manifests.cleanup();
  });

  it('answers 401 without a known PRIVATE-TOKEN, and 404 for unknown projects and files', async () => {
    const res = await fetch(`${gitlab.url}/api/v4/projects/${encodeURIComponent(APP)}`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { message: '401 Unauthorized' });
    assert.equal(await status(new Gitlab({ host: gitlab.url, token: 'nope' }).Projects.show(APP)), 401);
    assert.equal(await status(api.Projects.show('acme/none')), 404);
    assert.equal(await status(api.RepositoryFiles.show(MANIFESTS, 'nope.yaml', 'main')), 404);
    assert.equal((await api.Projects.show(2)).path_with_namespace, MANIFESTS);
  });

  it('serves files with base64 content, blob id and last commit id', async () => {
    const head = manifests.git(['rev-parse', 'main']).trim();
    const file = await api.RepositoryFiles.show(MANIFESTS, 'prod/values.yaml', 'main');
    assert.equal(Buffer.from(file.content, 'base64').toString(), 'tag: "1"\n');
    assert.equal(file.blob_id, manifests.git(['rev-parse', 'main:prod/values.yaml']).trim());
    assert.equal(file.last_commit_id, head);
    assert.equal(file.commit_id, head);
  });

  it('commits create, move and chmod actions as one real commit; refuses bad actions', async () => {
    const commit = await api.Commits.create(MANIFESTS, 'main', 'reshuffle', [
      { action: 'create', filePath: 'staging/values.yaml', content: 'tag: "0"\n' },
      { action: 'move', filePath: 'docs/README.md', previousPath: 'README.md' },
      {
        action: 'create',
        filePath: 'bin/run',
        content: Buffer.from('#!/bin/sh\n').toString('base64'),
        encoding: 'base64',
      },
    ]);
    assert.equal(manifests.git(['rev-parse', 'main']).trim(), commit.id);
    assert.equal(
      manifests.git(['ls-tree', '-r', '--name-only', 'main']),
      'bin/run\ndocs/README.md\nprod/values.yaml\nstaging/values.yaml\n',
    );
    assert.equal(manifests.git(['show', 'main:bin/run']), '#!/bin/sh\n');
    // Actions are checked against the start of the commit (GitLab's MultiService): chmod a file that exists.
    await api.Commits.create(
      MANIFESTS,
      'main',
      'executable',
      [{ action: 'chmod', filePath: 'bin/run', execute_filemode: true }],
      { startBranch: 'main' },
    );
    assert.match(manifests.git(['ls-tree', 'main', 'bin/']), /^100755 /);
    assert.equal(
      await status(
        api.Commits.create(MANIFESTS, 'main', 'dup', [{ action: 'create', filePath: 'bin/run', content: 'x' }]),
      ),
      400,
    );
    assert.deepEqual(gitlab.state.requests.at(-1), {
      method: 'POST',
      path: `/projects/${MANIFESTS}/repository/commits`,
      status: 400,
      body: {
        branch: 'main',
        commit_message: 'dup',
        actions: [{ action: 'create', file_path: 'bin/run', content: 'x' }],
      },
    });
    assert.equal(
      await status(
        api.Commits.create(MANIFESTS, 'main', 'gone', [{ action: 'update', filePath: 'nope', content: 'x' }]),
      ),
      400,
    );
    const branchExists = api.Commits.create(
      MANIFESTS,
      'main',
      'x',
      [{ action: 'update', filePath: 'bin/run', content: 'y' }],
      { startSha: commit.id },
    );
    await assert.rejects(branchExists, /A branch called 'main' already exists/);
    assert.equal(manifests.git(['show', 'main:bin/run']), '#!/bin/sh\n');
  });

  it('lists commits by path and ref, pages with Link headers, and shows one commit with git’s trailers', async () => {
    for (let i = 1; i <= 3; i++)
      await api.Commits.create(MANIFESTS, 'main', `bump ${i}\n\nFjord-Tag: ${i}\nFjord-Job: j${i}`, [
        { action: 'update', filePath: 'prod/values.yaml', content: `tag: "${i + 1}"\n` },
      ]);
    const all = await api.Commits.all(MANIFESTS, { refName: 'main', path: 'prod/values.yaml', perPage: 2 }); // follows rel="next"
    assert.deepEqual(
      all.map((c) => c.title),
      ['bump 3', 'bump 2', 'bump 1', 'initial manifests'],
    );
    const one = await api.Commits.all(MANIFESTS, { refName: 'main', path: 'prod/values.yaml', perPage: 2, page: 2 });
    assert.deepEqual(
      one.map((c) => c.title),
      ['bump 1', 'initial manifests'],
    );
    const shown = await api.Commits.show(MANIFESTS, all[0]!.id);
    assert.deepEqual(shown.trailers, { 'Fjord-Tag': '3', 'Fjord-Job': 'j3' });
    assert.deepEqual(shown.stats, { additions: 1, deletions: 1, total: 2 });
    assert.equal(await status(api.Commits.show(MANIFESTS, 'f'.repeat(40))), 404);
  });

  it('compares two commits: commits oldest first, and diffs', async () => {
    const first = app.git(['rev-list', '--max-parents=0', 'main']).trim();
    const cmp = await api.Repositories.compare(APP, first, appSha);
    assert.deepEqual(
      cmp.commits?.map((c) => c.id),
      [appSha],
    );
    assert.equal((cmp.diffs as Array<{ new_path: string; diff: string }>)[0]!.new_path, 'src/main.go');
    assert.match((cmp.diffs as Array<{ diff: string }>)[0]!.diff, /^@@ .*\n-package main\n\+package main \/\/ v2/);
    const back = await api.Repositories.compare(APP, appSha, first);
    assert.deepEqual(back.commits, [], 'nothing in first that appSha lacks');
  });

  it('creates branches and refuses duplicates', async () => {
    const branch = await api.Branches.create(MANIFESTS, 'feature/x', 'main');
    assert.equal(branch.commit.id, manifests.git(['rev-parse', 'main']).trim());
    assert.equal(await status(api.Branches.create(MANIFESTS, 'feature/x', 'main')), 400);
    assert.equal(await status(api.Branches.create(MANIFESTS, 'bad..name', 'main')), 400);
  });

  it('merge requests: one open per branch pair, merge checks state, sha and conflicts', async () => {
    await api.Commits.create(
      MANIFESTS,
      'mr-1',
      'change on mr-1',
      [{ action: 'update', filePath: 'staging/values.yaml', content: 'tag: "9"\n' }],
      { startBranch: 'main' },
    );
    const mr = await api.MergeRequests.create(MANIFESTS, 'mr-1', 'main', 'Stage 9');
    assert.equal(mr.iid, 1);
    assert.equal(await status(api.MergeRequests.create(MANIFESTS, 'mr-1', 'main', 'again')), 409);
    assert.equal(await status(api.MergeRequests.merge(MANIFESTS, mr.iid, { sha: 'f'.repeat(40) })), 409);
    assert.deepEqual(
      (await api.MergeRequests.all({ projectId: MANIFESTS, state: 'opened', sourceBranch: 'mr-1' })).map((m) => m.iid),
      [1],
    );
    const merged = await api.MergeRequests.merge(MANIFESTS, mr.iid);
    assert.equal(merged.state, 'merged');
    assert.equal(manifests.git(['log', '-1', '--format=%s', 'main']).trim(), "Merge branch 'mr-1' into 'main'");
    assert.equal(await status(api.MergeRequests.merge(MANIFESTS, mr.iid)), 405);
    assert.equal(
      (await api.MergeRequests.show(MANIFESTS, mr.iid)).merge_commit_sha,
      manifests.git(['rev-parse', 'main']).trim(),
    );

    // Two branches changing the same line: the second cannot be merged.
    for (const [b, v] of [
      ['c-1', '7'],
      ['c-2', '8'],
    ] as const)
      await api.Commits.create(
        MANIFESTS,
        b,
        b,
        [{ action: 'update', filePath: 'prod/values.yaml', content: `tag: "${v}"\n` }],
        { startBranch: 'main' },
      );
    const m1 = await api.MergeRequests.create(MANIFESTS, 'c-1', 'main', 'seven');
    const m2 = await api.MergeRequests.create(MANIFESTS, 'c-2', 'main', 'eight');
    await api.MergeRequests.merge(MANIFESTS, m1.iid);
    assert.equal((await api.MergeRequests.show(MANIFESTS, m2.iid)).has_conflicts, true);
    assert.equal(await status(api.MergeRequests.merge(MANIFESTS, m2.iid)), 422);
  });

  it('records merge request notes, updated in place', async () => {
    const note = await api.MergeRequestNotes.create(MANIFESTS, 1, 'deploying…');
    await api.MergeRequestNotes.create(MANIFESTS, 1, 'second');
    const edited = await api.MergeRequestNotes.edit(MANIFESTS, 1, note.id, { body: 'deployed ✔' });
    assert.equal(edited.body, 'deployed ✔');
    const list = await api.MergeRequestNotes.all(MANIFESTS, 1, { sort: 'asc' });
    assert.deepEqual(
      list.map((n) => n.body),
      ['deployed ✔', 'second'],
    );
    assert.deepEqual(gitlab.state.notes.find((n) => n.id === note.id)!.revisions, ['deploying…', 'deployed ✔']);
    assert.equal(await status(api.MergeRequestNotes.edit(MANIFESTS, 1, 999, { body: 'x' })), 404);
  });

  it('records commit statuses, refusing a repeated running state', async () => {
    await api.Commits.editStatus(APP, appSha, 'pending', { name: 'fjord/prod', ref: 'main' });
    await api.Commits.editStatus(APP, appSha, 'running', { name: 'fjord/prod', ref: 'main' });
    assert.equal(
      await status(api.Commits.editStatus(APP, appSha, 'running', { name: 'fjord/prod', ref: 'main' })),
      400,
    );
    await api.Commits.editStatus(APP, appSha, 'success', {
      name: 'fjord/prod',
      ref: 'main',
      targetUrl: 'http://x/1',
      description: 'deployed',
    });
    assert.deepEqual(
      gitlab.state.statuses.map((s) => s.state),
      ['pending', 'running', 'success'],
    );
    assert.deepEqual(
      (await api.Commits.allStatuses(APP, appSha)).map((s) => s.status),
      ['pending', 'running', 'success'],
    );
    assert.equal(await status(api.Commits.editStatus(APP, 'e'.repeat(40), 'pending', { name: 'fjord/prod' })), 404);
  });

  it('records deployments and their status changes', async () => {
    const d = await api.Deployments.create(APP, 'prod', appSha, 'main', false, { status: 'running' });
    const done = await api.Deployments.edit(APP, d.id, 'success');
    assert.equal(done.status, 'success');
    assert.deepEqual(
      gitlab.state.deployments.map((x) => [x.environment, x.sha, x.statusHistory]),
      [['prod', appSha, ['running', 'success']]],
    );
    assert.deepEqual(
      (await api.Deployments.all(APP, { environment: 'prod' })).map((x) => x.id),
      [d.id],
    );
    assert.equal(
      await status(api.Deployments.create(APP, 'prod', 'd'.repeat(40), 'main', false, { status: 'running' })),
      400,
    );
  });
});

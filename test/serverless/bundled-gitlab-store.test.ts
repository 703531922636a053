/**
 * The GitLab manifest store as the Lambda worker ships it: infra/bundle.ts rewrites @gitbeaker/rest and
 * @gitbeaker/core so unused resources drop out; this runs the bundled store in a fresh Node process against
 * the GitLab stand-in over a real bare repository, so the rewritten requester is exercised, not just loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { bundleForNode, ROOT } from '../../infra/bundle.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { FILE, setTag, tagOf, VALUES } from '../manifest/helpers.js';

const out = (mkdirSync(join(ROOT, 'dist'), { recursive: true }), mkdtempSync(join(ROOT, 'dist', 'test-bundled-store-')));
after(() => rmSync(out, { recursive: true, force: true }));

const PROJECT = 'acme/manifests';

describe('bundled GitLab manifest store', () => {
  it('the bundled store reads the manifest and commits a tag bump through the stand-in', async () => {
    const entry = join(out, 'entry.ts');
    writeFileSync(entry, `export { GitlabManifestStore } from ${JSON.stringify(join(ROOT, 'lib/manifest/store-gitlab.ts'))};\nexport { Secret } from ${JSON.stringify(join(ROOT, 'lib/secret.ts'))};\n`);
    const bundle = await bundleForNode(entry, join(out, 'store.mjs'));
    const repo = createBareRepo({ [FILE]: VALUES });
    const gitlab = await startGitlabStandIn({ projects: { [PROJECT]: { repo: repo.bare } } });
    try {
      const script = `
        const { GitlabManifestStore, Secret } = await import(${JSON.stringify(bundle.file)});
        const a = JSON.parse(process.env.ARGS);
        const store = new GitlabManifestStore({ url: a.url, token: new Secret(a.token), project: a.project, branch: 'main', author: { name: 'fjord', email: 'fjord@example.com' } });
        const read = await store.read(a.file);
        const commit = await store.commit({ file: a.file, content: a.content, lastCommitId: read.commitId, message: 'deploy api 9.9.9' });
        process.stdout.write(JSON.stringify({ content: read.content, commit }));`;
      const args = { url: gitlab.url, token: gitlab.token, project: PROJECT, file: FILE, content: setTag('api', '9.9.9')(VALUES) };
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH, ARGS: JSON.stringify(args) } });
      const result = JSON.parse(stdout) as { content: string };
      assert.equal(result.content, VALUES);
      assert.equal(tagOf(repo.git(['show', `main:${FILE}`]), 'api'), '9.9.9');
      assert.equal(repo.git(['log', '-1', '--format=%s', 'main']).trim(), 'deploy api 9.9.9');
    } finally {
      await gitlab.close();
      repo.cleanup();
    }
  });
});

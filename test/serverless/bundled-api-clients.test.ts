/**
 * fjord's GitLab and GitHub clients as the Lambda worker ships them: infra/bundle.ts rewrites @gitbeaker/rest
 * and @gitbeaker/core so unused resources drop out, and keeps only the GitHub REST routes lib/ calls. These
 * run the bundled code in a fresh Node process against the stand-ins over real bare repositories, so what
 * the rewrites leave is exercised, not just loaded; and ssh2's key parser, whose SHA-512 the bundles take
 * from node:crypto instead of tweetnacl.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { bundleForNode, ROOT } from '../../infra/bundle.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { startGithubStandIn } from '../fixtures/github/stand-in.js';
import { startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { FILE, setTag, tagOf, VALUES } from '../manifest/helpers.js';

mkdirSync(join(ROOT, 'dist'), { recursive: true });
const out = mkdtempSync(join(ROOT, 'dist', 'test-bundled-store-'));
after(() => rmSync(out, { recursive: true, force: true }));

const PROJECT = 'acme/manifests';

/** Bundles a module exporting `exports` (name → lib/ file) as the Lambda functions are; its file. */
async function bundleOf(name: string, exports: Record<string, string>): Promise<string> {
  const entry = join(out, `${name}.ts`);
  writeFileSync(
    entry,
    Object.entries(exports)
      .map(([what, from]) => `export { ${what} } from ${JSON.stringify(join(ROOT, from))};`)
      .join('\n'),
  );
  return (await bundleForNode(entry, join(out, `${name}.mjs`))).file;
}

/** Runs `script` (an ES module body; `ARGS` holds `args` as JSON) in a fresh Node; its stdout. */
async function runFresh(script: string, args: unknown): Promise<string> {
  return (
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, ARGS: JSON.stringify(args) },
    })
  ).stdout;
}

describe('bundled API clients', () => {
  it('the bundled store reads the manifest and commits a tag bump through the stand-in', async () => {
    const file = await bundleOf('store', {
      GitlabManifestStore: 'lib/manifest/store-gitlab.ts',
      Secret: 'lib/secret.ts',
    });
    const repo = createBareRepo({ [FILE]: VALUES });
    const gitlab = await startGitlabStandIn({ projects: { [PROJECT]: { repo: repo.bare } } });
    try {
      const script = `
        const { GitlabManifestStore, Secret } = await import(${JSON.stringify(file)});
        const a = JSON.parse(process.env.ARGS);
        const store = new GitlabManifestStore({ url: a.url, token: new Secret(a.token), project: a.project, branch: 'main', author: { name: 'fjord', email: 'fjord@example.com' } });
        const read = await store.read(a.file);
        const commit = await store.commit({ file: a.file, content: a.content, lastCommitId: read.commitId, message: 'deploy api 9.9.9' });
        process.stdout.write(JSON.stringify({ content: read.content, commit }));`;
      const args = {
        url: gitlab.url,
        token: gitlab.token,
        project: PROJECT,
        file: FILE,
        content: setTag('api', '9.9.9')(VALUES),
      };
      const result = JSON.parse(await runFresh(script, args)) as { content: string };
      assert.equal(result.content, VALUES);
      assert.equal(tagOf(repo.git(['show', `main:${FILE}`]), 'api'), '9.9.9');
      assert.equal(repo.git(['log', '-1', '--format=%s', 'main']).trim(), 'deploy api 9.9.9');
    } finally {
      await gitlab.close();
      repo.cleanup();
    }
  });

  it('the bundled GitHub client reads a pull request and sets a commit status through the stand-in', async () => {
    const file = await bundleOf('github', { githubClient: 'lib/notify/github-client.ts', Secret: 'lib/secret.ts' });
    const repo = createBareRepo({ 'README.md': 'app\n' });
    const github = await startGithubStandIn({ repositories: { 'acme/api': { repo: repo.bare } } });
    try {
      const sha = repo.git(['rev-parse', 'main']).trim();
      github.openPull('acme/api', { number: 7, headRef: 'main' });
      const script = `
        const { githubClient, Secret } = await import(${JSON.stringify(file)});
        const a = JSON.parse(process.env.ARGS);
        const octokit = githubClient({ url: a.url, credentials: { token: new Secret(a.token) } });
        const { data: pull } = await octokit.rest.pulls.get({ owner: 'acme', repo: 'api', pull_number: 7 });
        await octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'api', sha: a.sha, state: 'success', context: 'fjord/production' });
        process.stdout.write(String(pull.number));`;
      assert.equal(await runFresh(script, { url: github.url, token: github.token, sha }), '7');
      assert.deepEqual(
        github.state.statuses.map((s) => [s.sha, s.state, s.context]),
        [[sha, 'success', 'fjord/production']],
      );
    } finally {
      await github.close();
      repo.cleanup();
    }
  });

  it('the bundled ssh2 key parser opens a passphrase-protected OpenSSH key, without tweetnacl', async () => {
    const entry = join(out, 'keys.ts');
    writeFileSync(entry, "export { parseKey } from 'ssh2/lib/protocol/keyParser.js';\n");
    const file = (await bundleForNode(entry, join(out, 'keys.mjs'))).file;
    // A message only tweetnacl carries: bcrypt-pbkdf's SHA-512 comes from node:crypto instead.
    assert.equal(readFileSync(file, 'utf8').includes('bad secret key size'), false, 'the bundle still holds tweetnacl');
    const key = join(out, 'id_ed25519');
    // -a: bcrypt-pbkdf rounds, few, so the test is quick; the derivation is the same.
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-a',
      '4',
      '-N',
      'correct horse',
      '-C',
      'bundle-test',
      '-f',
      key,
    ]);
    const script = `
      const { parseKey } = await import(${JSON.stringify(file)});
      const a = JSON.parse(process.env.ARGS);
      const pem = (await import('node:fs')).readFileSync(a.key, 'utf8');
      const wrong = parseKey(pem, 'wrong horse');
      const key = parseKey(pem, 'correct horse');
      process.stdout.write(JSON.stringify({ wrong: wrong instanceof Error, pub: key.type + ' ' + key.getPublicSSH().toString('base64') }));`;
    const result = JSON.parse(await runFresh(script, { key })) as { wrong: boolean; pub: string };
    assert.equal(result.wrong, true, 'a wrong passphrase is refused');
    assert.equal(result.pub, readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2).join(' '));
  });
});

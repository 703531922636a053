/**
 * fjord's GitLab and GitHub clients as the Lambda worker ships them: infra/bundle.ts rewrites @gitbeaker/rest
 * and @gitbeaker/core so unused resources drop out, and keeps only the GitHub REST routes lib/ calls. These
 * run the bundled code in a fresh Node process against the stand-ins over real bare repositories, so what
 * the rewrites leave is exercised, not just loaded; ssh2's key parser, whose SHA-512 the bundles take
 * from node:crypto instead of tweetnacl; and the SSH runner over chacha20-poly1305, whose MAC the bundles
 * take from @noble/ciphers instead of ssh2's Emscripten Poly1305; age decryption, whose post-quantum
 * library the bundles take without its unused KEMs; gitbeaker's query strings, written by qs-esm there; and
 * manifest edits and fjord.yaml, read by yaml's ES module build there.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { bundleForNode, ROOT } from '../../infra/bundle.js';
import { generateHybridIdentity, generateIdentity, identityToRecipient } from 'age-encryption';
import { formatQuery } from '@gitbeaker/requester-utils';
import { parseConfig } from '../../lib/config/parse.js';
import { bumpTag } from '../../lib/manifest/bump-tag.js';
import { ageEncrypt } from '../../lib/secrets/age-key.js';
import { startFleet } from '../fixtures/fleet.js';
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

  it('the bundled SSH runner runs commands over chacha20-poly1305@openssh.com with @noble/ciphers Poly1305', async () => {
    const file = await bundleOf('ssh', { connect: 'lib/ssh/connect.ts', Secret: 'lib/secret.ts' });
    // A string only ssh2's Emscripten Poly1305 (lib/protocol/crypto/poly1305.js) carries.
    assert.equal(
      readFileSync(file, 'utf8').includes('no native wasm support detected'),
      false,
      "the bundle still holds ssh2's Emscripten Poly1305",
    );
    // The host offers no other cipher: every packet each way is sealed and checked with that Poly1305.
    const fleet = await startFleet({ sshdOptions: ['Ciphers chacha20-poly1305@openssh.com'] });
    try {
      const host = fleet.hosts[0]!;
      const script = `
        const { connect, Secret } = await import(${JSON.stringify(file)});
        const a = JSON.parse(process.env.ARGS);
        const session = await connect(a.host, { privateKey: new Secret(a.key) }, { connectTimeoutMs: 30000, commandTimeoutMs: 60000 });
        const small = await session.run(['echo', 'hello']);
        // Packets of many sizes both ways: a long stdin in, its bytes counted and a long output back.
        const big = await session.run(['sh', '-c', 'wc -c; seq 1 20000'], { stdin: 'x'.repeat(300000) });
        await session.close();
        const lines = big.stdout.trim().split('\\n');
        process.stdout.write(JSON.stringify({ small: small.stdout, count: lines[0].trim(), last: lines.at(-1), n: lines.length }));`;
      const result = JSON.parse(
        await runFresh(script, { host: { ...host }, key: fleet.privateKey.reveal() }),
      ) as Record<string, unknown>;
      assert.deepEqual(result, { small: 'hello\n', count: '300000', last: '20000', n: 20001 });
      assert.match(fleet.log(host.name), /Accepted publickey/);
    } finally {
      await fleet.stop();
    }
  });

  it('the bundled age decrypter opens files for X25519 and ML-KEM-768+X25519 identities, without the unused KEMs', async () => {
    const file = await bundleOf('age', { ageDecrypt: 'lib/secrets/age-key.ts', Secret: 'lib/secret.ts' });
    // Labels of @noble/post-quantum KEMs age-encryption never uses (QSF over P-256/P-384, KitchenSink).
    for (const marker of ['QSF-KEM(ML-KEM-768,P-256)', 'KitchenSink-KEM'])
      assert.equal(readFileSync(file, 'utf8').includes(marker), false, `the bundle still holds ${marker}`);
    const identities = { x25519: await generateIdentity(), hybrid: await generateHybridIdentity() };
    const files: Record<string, string> = {};
    for (const [kind, identity] of Object.entries(identities))
      files[kind] = await ageEncrypt(`secret for ${kind}\n`, [await identityToRecipient(identity)]);
    assert.match(identities.hybrid, /^AGE-SECRET-KEY-PQ-1/);
    const script = `
      const { ageDecrypt, Secret } = await import(${JSON.stringify(file)});
      const a = JSON.parse(process.env.ARGS);
      const out = {};
      for (const kind of Object.keys(a.files))
        out[kind] = new TextDecoder().decode(await ageDecrypt(a.files[kind], [new Secret(a.identities[kind])], kind));
      const wrong = await ageDecrypt(a.files.hybrid, [new Secret(a.identities.x25519)], 'hybrid').catch((e) => e.message);
      process.stdout.write(JSON.stringify({ out, wrong }));`;
    const result = JSON.parse(await runFresh(script, { files, identities })) as {
      out: Record<string, string>;
      wrong: string;
    };
    assert.deepEqual(result.out, { x25519: 'secret for x25519\n', hybrid: 'secret for hybrid\n' });
    assert.match(result.wrong, /none of the worker's age identities is a recipient/);
  });

  it('the bundled gitbeaker writes and reads query strings as qs does, with qs-esm and no side-channel', async () => {
    const entry = join(out, 'query.ts');
    // core's pagination reads the next page's query with qs.parse; requester-utils writes every query.
    writeFileSync(
      entry,
      "export { formatQuery } from '@gitbeaker/requester-utils';\nexport { Gitlab } from '@gitbeaker/rest';\n",
    );
    const file = (await bundleForNode(entry, join(out, 'query.mjs'))).file;
    const text = readFileSync(file, 'utf8');
    // Messages only side-channel and object-inspect (qs's dependencies, not qs-esm's) carry.
    for (const marker of ['Side channel does not contain', 'option "maxStringLength", if provided'])
      assert.equal(text.includes(marker), false, `the bundle still holds ${JSON.stringify(marker)}`);
    const queries = [
      { ref: 'main', perPage: 100, page: 2 },
      { filePath: '.fjord/approvals.yaml', scope: ['a b', 'c&d'], sha: 'abc' },
      { labels: ['x', 'y'], withStats: true, orderBy: 'created_at', nested: { authorName: 'Zoë', n: [1, 2] } },
      { empty: '', nothing: null, undef: undefined, zero: 0, flag: false },
    ];
    const script = `
      const { formatQuery } = await import(${JSON.stringify(file)});
      process.stdout.write(JSON.stringify(JSON.parse(process.env.ARGS).map((q) => formatQuery(q))));`;
    const bundled = JSON.parse(await runFresh(script, queries)) as string[];
    assert.deepEqual(
      bundled,
      queries.map((q) => formatQuery(q)),
    );
    // And back, as gitbeaker's pagination reads a next link (qs.parse in the bundle is qs-esm's).
    const { parse } = await import('qs-esm');
    const qs = createRequire(import.meta.url)('qs') as { parse(query: string): unknown };
    for (const q of bundled) assert.deepEqual(parse(q), qs.parse(q), q);
  });

  it('the bundled manifest editor and config reader, on yaml as ES modules, give what the Node build gives', async () => {
    const file = await bundleOf('yaml', { bumpTag: 'lib/manifest/bump-tag.ts', parseConfig: 'lib/config/parse.ts' });
    // A variable only yaml's CommonJS build (dist/parse/parser.js) reads.
    assert.equal(readFileSync(file, 'utf8').includes('LOG_TOKENS'), false, "the bundle holds yaml's CommonJS build");
    const manifest = (name: string) => readFileSync(join(ROOT, 'test/fixtures/manifests', name), 'utf8');
    const bumps: [string, Record<string, string>, string][] = [
      [manifest('helm-values.yaml'), {}, '2.0.0'],
      [manifest('compose.yaml'), { service: 'api' }, 'v2'],
      [manifest('k8s-app.yaml'), { container: 'api/app' }, 'v2'],
      [manifest('kustomization.yaml'), { image: 'acme/web' }, 'v2'],
      ['image:\n  tag: &t v1\nother: *t\n', {}, 'v2'],
      ['image:\r\n  tag: !!str 1.9   # c\r\n', {}, '1.10'],
      ['image: [unclosed\n', {}, 'v2'],
    ];
    const configs = [
      readFileSync(join(ROOT, 'examples/fjord.yaml'), 'utf8'),
      'apps:\n  api:\n    image: [\n',
      'apps:\n  api: {}\nunknown: 1\n',
    ];
    const outcome = (fn: () => unknown) => {
      try {
        return { ok: fn() };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    const script = `
      const { bumpTag, parseConfig } = await import(${JSON.stringify(file)});
      const a = JSON.parse(process.env.ARGS);
      const outcome = ${outcome.toString()};
      process.stdout.write(JSON.stringify({
        bumps: a.bumps.map(([text, target, tag]) => outcome(() => bumpTag(text, target, tag))),
        configs: a.configs.map((text) => outcome(() => parseConfig(text, 'fjord.yaml'))),
      }));`;
    const bundled = JSON.parse(await runFresh(script, { bumps, configs })) as unknown;
    const node = JSON.parse(
      JSON.stringify({
        bumps: bumps.map(([text, target, tag]) => outcome(() => bumpTag(text, target, tag))),
        configs: configs.map((text) => outcome(() => parseConfig(text, 'fjord.yaml'))),
      }),
    ) as { bumps: { ok?: { changed: boolean } }[]; configs: { error?: string }[] };
    assert.deepEqual(bundled, node);
    // What was compared: four real edits, a refused file, a valid config and two refused ones.
    assert.deepEqual(
      node.bumps.map((b) => b.ok?.changed),
      [true, true, true, true, true, true, undefined],
    );
    assert.deepEqual(
      node.configs.map((c) => c.error === undefined),
      [true, false, false],
    );
  });

  it("every error class of lib/ keeps its name in the bundle: an outcome's and a note's error name is the class's", async () => {
    // Each exported class of a module that declares one extending an error; its name is `new.target.name`
    // (lib/errors.ts), so a mangled class name would reach outcomes, notes and logs as `kt` or `pe`.
    const exports: Record<string, string> = {};
    const walk = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    for (const file of walk('lib')) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      for (const [, name] of source.matchAll(/^export class (\w+) extends \w*(?:Error|Failed|Gate\w*)\b/gm))
        exports[name!] = file;
    }
    assert.ok(Object.keys(exports).length >= 40, `only ${Object.keys(exports).length} error classes found`);
    const file = await bundleOf('errors', exports);
    const names = await runFresh(
      `const m = await import(${JSON.stringify(file)});
       process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.name]))));`,
      {},
    );
    const wrong = Object.entries(JSON.parse(names) as Record<string, string>).filter(([k, v]) => k !== v);
    assert.deepEqual(wrong, []);
  });
});

/**
 * Manifest edits on real-world shapes (issue 12, item 14): a path at an image without a tag never loses the
 * image name; a Helm block with separate `image:` and `tag:` keys gets its `tag:` edited; a `digest:` beside
 * the tag is refused (it would win over the tag); `registry: null` does not hide a block; and bytes that
 * are not UTF-8 survive an edit byte-for-byte through the git store, the GitLab API and `fjord bump -i`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { main } from '../../lib/cli/main.js';
import { ManifestTargetAmbiguous, ManifestTargetUnsupported } from '../../lib/manifest/errors.js';
import { bumpTag, readTag } from '../../lib/manifest/index.js';
import { decodeManifest, encodeManifest } from '../../lib/manifest/manifest-bytes.js';
import { GitManifestStore } from '../../lib/manifest/store-git.js';
import { GitlabManifestStore } from '../../lib/manifest/store-gitlab.js';
import type { ManifestStore } from '../../lib/manifest/store.js';
import { Secret } from '../../lib/secret.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';

const unsupported = (re: RegExp) => (e: unknown) => e instanceof ManifestTargetUnsupported && re.test(e.message);

describe('manifest edits: image names, Helm blocks, digests', () => {
  it('a path at an image without a tag adds the tag and keeps the name (compose, k8s, helm)', () => {
    const compose = 'services:\n  db:\n    image: mongo # official image\n  cache:\n    image: "redis"\n';
    const db = bumpTag(compose, { path: 'services.db.image' }, '7.0.5');
    assert.equal(db.text, 'services:\n  db:\n    image: mongo:7.0.5 # official image\n  cache:\n    image: "redis"\n');
    assert.equal(db.previousTag, undefined);
    assert.equal(
      parse(bumpTag(compose, { path: 'services.cache.image' }, '7.2').text).services.cache.image,
      'redis:7.2',
    );
    const k8s =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: nginx\n';
    assert.equal(
      parse(bumpTag(k8s, { path: 'spec.containers[name=app].image' }, '1.27').text).spec.containers[0].image,
      'nginx:1.27',
    );
    const helm = 'sidecar:\n  initImage: busybox\n';
    assert.equal(bumpTag(helm, { path: 'sidecar.initImage' }, '1.36').text, 'sidecar:\n  initImage: busybox:1.36\n');
  });

  it('a path at a key that names the image (repository, registry) is refused, never overwritten with a tag', () => {
    const values = 'image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.0\n';
    assert.throws(
      () => bumpTag(values, { path: 'image.repository' }, '1.26.0'),
      unsupported(/repository names the image, not its tag/),
    );
    assert.throws(() => bumpTag(values, { path: 'image.registry' }, '1.26.0'), unsupported(/registry names the image/));
  });

  it('helm --image on a block with separate image: and tag: keys edits tag:', () => {
    const values =
      'api:\n  image: registry.example.com/acme/api\n  tag: "1.0.0" # set by fjord\nworker:\n  image: registry.example.com/acme/worker\n  tag: "1.0.0"\n';
    const r = bumpTag(values, { format: 'helm', image: 'registry.example.com/acme/api' }, '1.1.0');
    assert.equal(r.text, values.replace('tag: "1.0.0" # set', 'tag: "1.1.0" # set'));
    assert.equal(r.where, 'api.tag');
    assert.equal(readTag(r.text, { format: 'helm', image: 'registry.example.com/acme/api' }), '1.1.0');
    // A name without a registry or path (`image: mongo`) is found the same way.
    assert.equal(
      bumpTag('db:\n  image: mongo\n  tag: "6"\n', { format: 'helm', image: 'mongo' }, '7').text,
      'db:\n  image: mongo\n  tag: "7"\n',
    );
    // The block as a path too; a block whose image has a tag of its own beside tag: is ambiguous.
    assert.equal(
      bumpTag(values, { path: 'worker' }, '2.0.0').text,
      values.replace(/(worker:\n.*\n  tag: )"1.0.0"/, '$1"2.0.0"'),
    );
    assert.throws(
      () => bumpTag('api:\n  image: acme/api:1.0\n  tag: "1.0"\n', { format: 'helm', image: 'acme/api' }, '2'),
      ManifestTargetAmbiguous,
    );
  });

  it('a Helm digest beside the tag is refused (default path, --path, --image); an empty digest is no digest', () => {
    const pinned =
      'image:\n  repository: acme/api\n  tag: 1.0.0\n  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n';
    const digest = unsupported(/pins digest sha256:0123.*wins over the tag/);
    assert.throws(() => bumpTag(pinned, { format: 'helm' }, '1.1.0'), digest);
    assert.throws(() => bumpTag(pinned, { path: 'image.tag' }, '1.1.0'), digest);
    assert.throws(() => bumpTag(pinned, { path: 'image' }, '1.1.0'), digest);
    assert.throws(() => bumpTag(pinned, { format: 'helm', image: 'acme/api' }, '1.1.0'), digest);
    for (const empty of ['""', "''", '', '~', 'null']) {
      const values = pinned.replace(/digest: .*/, `digest: ${empty}`);
      assert.equal(
        bumpTag(values, { format: 'helm', image: 'acme/api' }, '1.1.0').text,
        values.replace('tag: 1.0.0', 'tag: 1.1.0'),
        empty,
      );
    }
  });

  it('registry: null (or ~ or "") does not hide a Bitnami-style block', () => {
    for (const registry of ['null', '~', '""', '']) {
      const values = `image:\n  registry: ${registry}\n  repository: bitnami/nginx\n  tag: 1.25.0\n`;
      const r = bumpTag(values, { format: 'helm', image: 'docker.io/bitnami/nginx' }, '1.26.0');
      assert.equal(r.text, values.replace('1.25.0', '1.26.0'), `registry: ${registry}`);
    }
  });
});

// A Latin-1 comment (é = 0xE9), a stray byte (0xFF), a truncated sequence (0xC3 at a line end), UTF-8 (ü)
// and a UTF-8 BOM: none of them is near the tag, and every one must come back byte-for-byte.
const LATIN1 = Buffer.concat([
  Buffer.from('\ufeff# values for caf'),
  Buffer.of(0xe9),
  Buffer.from(' (Z\u00fcrich) '),
  Buffer.of(0xff),
  Buffer.from('\n'),
  Buffer.from('image:\n  repository: acme/api # owner: Ren'),
  Buffer.of(0xe9, 0xc3),
  Buffer.from('\n  tag: "1.0.0"\n'),
]);
/** The expected bytes: LATIN1 with the five bytes of the old tag replaced, computed on bytes, not text. */
const expectedBytes = (tag: string) => {
  const at = LATIN1.indexOf('tag: "1.0.0"') + 'tag: "'.length;
  return Buffer.concat([LATIN1.subarray(0, at), Buffer.from(tag), LATIN1.subarray(at + '1.0.0'.length)]);
};
const FILE = 'prod/values.yaml';

async function editThrough(store: ManifestStore, tag: string) {
  const read = await store.read(FILE);
  await store.commit({
    file: FILE,
    content: bumpTag(read.content, { format: 'helm' }, tag).text,
    lastCommitId: read.commitId,
    message: `deploy ${tag}`,
  });
}
const blob = (bare: string) => execFileSync('git', ['cat-file', 'blob', `main:${FILE}`], { cwd: bare });

describe('bytes that are not UTF-8 survive an edit', () => {
  it('decodes losslessly: every byte string round-trips, valid UTF-8 decodes as UTF-8', () => {
    assert.ok(encodeManifest(decodeManifest(LATIN1)).equals(LATIN1));
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.ok(encodeManifest(decodeManifest(all)).equals(all));
    for (const bad of [
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xc0, 0xaf],
      [0xe2, 0x82],
    ])
      assert.ok(encodeManifest(decodeManifest(Buffer.from(bad))).equals(Buffer.from(bad)));
    assert.equal(decodeManifest(Buffer.from('Zürich ✓ 🚀')), 'Zürich ✓ 🚀');
  });

  it('through the git store: only the tag bytes change', async () => {
    const repo = createBareRepo({ [FILE]: LATIN1 });
    const dataDir = mkdtempSync(join(tmpdir(), 'fjord-data-'));
    try {
      await editThrough(new GitManifestStore({ repository: repo.bare, branch: 'main', dataDir }), '1.1.0');
      assert.ok(blob(repo.bare).equals(expectedBytes('1.1.0')), blob(repo.bare).toString('latin1'));
    } finally {
      repo.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('through the GitLab API (stand-in over real git): only the tag bytes change', async () => {
    const repo = createBareRepo({ [FILE]: LATIN1 });
    const gitlab = await startGitlabStandIn({ projects: { 'acme/manifests': { repo: repo.bare } } });
    try {
      await editThrough(
        new GitlabManifestStore({
          url: gitlab.url,
          token: new Secret(gitlab.token),
          project: 'acme/manifests',
          branch: 'main',
        }),
        '1.2.0',
      );
      assert.ok(blob(repo.bare).equals(expectedBytes('1.2.0')), blob(repo.bare).toString('latin1'));
    } finally {
      await gitlab.close();
      repo.cleanup();
    }
  });

  it('fjord bump --in-place: only the tag bytes change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-bytes-'));
    try {
      writeFileSync(join(dir, 'values.yaml'), LATIN1);
      const code = await main(['bump', 'values.yaml', '--tag', '1.3.0', '--in-place'], {
        stdout: () => {},
        stderr: () => {},
        env: {},
        cwd: dir,
      });
      assert.equal(code, 0);
      assert.ok(readFileSync(join(dir, 'values.yaml')).equals(expectedBytes('1.3.0')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

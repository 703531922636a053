import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { ManifestTarget } from '../../lib/config/schema.js';
import type { FjordError } from '../../lib/errors.js';
import {
  bumpTag,
  InvalidTag,
  ManifestInvalid,
  ManifestTargetAmbiguous,
  ManifestTargetNotFound,
  ManifestTargetUnsupported,
  detectFormat,
  parseManifest,
  readTag,
} from '../../lib/manifest/index.js';
import { assertOnlyTagChanged } from './diff.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/manifests/${name}`, import.meta.url), 'utf8');
const helm = fixture('helm-values.yaml');
const kustomization = fixture('kustomization.yaml');
const compose = fixture('compose.yaml');
const k8s = fixture('k8s-app.yaml');

/** Asserts `fn` throws `type`, a FjordError whose message matches `message`. */
function throwsNamed(fn: () => unknown, type: new (...a: never[]) => FjordError, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.match((err as Error).message, message);
    assert.equal((err as Error).name, type.name);
    return true;
  });
}

describe('bumpTag errors', () => {
  it('names a missing path, service, container or image', () => {
    throwsNamed(
      () => bumpTag(helm, { path: 'image.tagg' }, 'v2'),
      ManifestTargetNotFound,
      /^image\.tagg: not found .*no key "tagg" at image/,
    );
    throwsNamed(
      () => bumpTag(helm, { path: 'api.image.tag' }, 'v2'),
      ManifestTargetNotFound,
      /no key "api" at \(top level\)/,
    );
    throwsNamed(
      () => bumpTag(helm, { path: 'sidecars[name=istio].image' }, 'v2'),
      ManifestTargetNotFound,
      /no item with name=istio in sidecars/,
    );
    throwsNamed(
      () => bumpTag(helm, { path: 'sidecars[7].image' }, 'v2'),
      ManifestTargetNotFound,
      /sidecars has 2 items/,
    );
    throwsNamed(
      () => bumpTag(compose, { service: 'cron' }, 'v2'),
      ManifestTargetNotFound,
      /^services\.cron: .*services: api, worker, web, db, redis, proxy, docs/,
    );
    throwsNamed(
      () => bumpTag(compose, { service: 'docs' }, 'v2'),
      ManifestTargetNotFound,
      /services\.docs\.image: .*no image: key/,
    );
    throwsNamed(
      () => bumpTag(k8s, { container: 'sidecar' }, 'v2'),
      ManifestTargetNotFound,
      /^container sidecar: .*api\/app, api\/envoy/,
    );
    throwsNamed(
      () => bumpTag(kustomization, { image: 'acme/admin' }, 'v2'),
      ManifestTargetNotFound,
      /images\[name=acme\/admin\].*acme\/api, acme\/web, nginx/,
    );
    throwsNamed(
      () => bumpTag(kustomization, { image: 'busybox' }, 'v2'),
      ManifestTargetNotFound,
      /newTag: .*add a newTag key/,
    );
    throwsNamed(() => bumpTag('', { path: 'image.tag' }, 'v2'), ManifestTargetNotFound, /the file is empty/);
  });

  it('refuses a target that matches twice instead of editing both', () => {
    throwsNamed(
      () => bumpTag(k8s, { container: 'app' }, 'v2'),
      ManifestTargetAmbiguous,
      /container app: matches 2 places \(document 1: Deployment\/api: .*document 3: CronJob\/api-cleanup.*--container <metadata\.name>\/<container>/,
    );
    throwsNamed(
      () => bumpTag(k8s, { image: 'registry.example.com/acme/api' }, 'v2'),
      ManifestTargetAmbiguous,
      /matches 3 places/,
    );
    throwsNamed(
      () => bumpTag(compose, { image: 'registry.example.com/acme/api' }, 'v2'),
      ManifestTargetAmbiguous,
      /services\.api\.image, services\.worker\.image.*--service/,
    );
    const twoEntries = 'images:\n  - name: api\n    newTag: "1"\n  - name: api\n    newTag: "2"\n';
    throwsNamed(
      () => bumpTag(twoEntries, { format: 'kustomize', image: 'api' }, 'v2'),
      ManifestTargetAmbiguous,
      /matches 2 places/,
    );
    const twoDocs = 'image:\n  tag: a\n---\nimage:\n  tag: b\n';
    throwsNamed(
      () => bumpTag(twoDocs, { path: 'image.tag' }, 'v2'),
      ManifestTargetAmbiguous,
      /document 1: image\.tag, document 2: image\.tag/,
    );
    throwsNamed(
      () => bumpTag('a:\n  - {name: x, tag: 1}\n  - {name: x, tag: 2}\n', { path: 'a[name=x].tag' }, 'v2'),
      ManifestTargetAmbiguous,
      /a\[name=x\]/,
    );
    throwsNamed(() => bumpTag('image:\n  tag: a\n  tag: b\n', {}, 'v2'), ManifestInvalid, /Map keys must be unique/);
  });

  it('refuses aliases, merged keys, digests, variables, block scalars and escapes', () => {
    throwsNamed(
      () => bumpTag(helm, { path: 'worker.labels.team' }, 'v2'),
      ManifestTargetUnsupported,
      /worker\.labels is an alias \(\*commonLabels\)/,
    );
    throwsNamed(() => bumpTag(helm, { path: 'worker.resources.requests' }, 'v2'), ManifestTargetNotFound, /merge key/);
    throwsNamed(() => bumpTag(kustomization, { image: 'redis' }, 'v2'), ManifestTargetUnsupported, /pins a digest/);
    throwsNamed(
      () => bumpTag(compose, { service: 'proxy' }, 'v4'),
      ManifestTargetUnsupported,
      /variable \(traefik:\$\{TRAEFIK_TAG:-v3\.1\}\)/,
    );
    throwsNamed(
      () => bumpTag('services:\n  a:\n    image: nginx:1@sha256:abc\n', { service: 'a' }, 'v2'),
      ManifestTargetUnsupported,
      /pinned by digest/,
    );
    throwsNamed(() => bumpTag('image:\n  tag: |\n    v1\n', {}, 'v2'), ManifestTargetUnsupported, /block scalar/);
    throwsNamed(() => bumpTag('image:\n  tag: "v\\x31"\n', {}, 'v2'), ManifestTargetUnsupported, /escapes/);
    throwsNamed(() => bumpTag('image: [', {}, 'v2'), ManifestInvalid, /not valid YAML/);
  });

  it('rejects tags outside the tag grammar before reading the file', () => {
    const bad = [
      '1.0;rm -rf /',
      '$(x)',
      '`id`',
      'v1\nimage: evil',
      '../v1',
      '',
      'a'.repeat(129),
      '-v1',
      '.v1',
      'v 1',
      'v1:2',
      'v1/2',
      '"v1"',
    ];
    for (const tag of bad) throwsNamed(() => bumpTag(helm, {}, tag), InvalidTag, /is not a valid image tag/);
    throwsNamed(() => bumpTag('not: [yaml', {}, '$(x)'), InvalidTag, /"\$\(x\)"/);
    const longest = 'a'.repeat(128);
    assert.equal(readTag(bumpTag(helm, {}, longest).text, {}), longest);
  });
});

describe('bumpTag values', () => {
  it('is a no-op returning the same text when the tag is already set', () => {
    for (const [text, target] of [
      [helm, {}],
      [compose, { service: 'api' }],
      [k8s, { container: 'envoy' }],
      [kustomization, { image: 'acme/web' }],
    ] as const) {
      const tag = readTag(text, target)!;
      const result = bumpTag(text, target, tag);
      assert.deepEqual([result.changed, result.previousTag], [false, tag]);
      assert.equal(result.text, text);
    }
  });

  it('keeps single and double quotes, and plain stays plain when it reads back as a string', () => {
    assert.equal(bumpTag("image:\n  tag: 'v1'\n", {}, 'v2').text, "image:\n  tag: 'v2'\n");
    assert.equal(bumpTag('image:\n  tag: "v1"\n', {}, 'v2').text, 'image:\n  tag: "v2"\n');
    assert.equal(bumpTag('image:\n  tag: v1\n', {}, 'v2').text, 'image:\n  tag: v2\n');
    assert.equal(
      bumpTag('image: {tag: v1, pullPolicy: Always}\n', {}, 'v2').text,
      'image: {tag: v2, pullPolicy: Always}\n',
    );
    assert.equal(bumpTag('image:\r\n  tag: v1\r\n  # c\r\n', {}, 'v2').text, 'image:\r\n  tag: v2\r\n  # c\r\n');
    assert.equal(bumpTag('image:\n  tag: &t v1\nother: *t\n', {}, 'v2').text, 'image:\n  tag: &t v2\nother: *t\n');
    assert.equal(bumpTag('image:\n  tag: !!str 1.9\n', {}, '1.10').text, 'image:\n  tag: !!str 1.10\n');
  });

  it('quotes a plain tag that would read back as a number or a boolean (YAML 1.2 or 1.1)', () => {
    // `1.10` written plain is the float 1.1 to every YAML reader; `yes`/`on`/`0777`/`1_000` are not strings
    // to YAML 1.1 readers (Go's yaml.v2, which Helm and kubectl use). Quoting keeps the tag a string.
    for (const tag of ['1.10', '2', '1e3', '0x1F', 'yes', 'on', 'NO', '0777', '1_000', 'null', 'true']) {
      const { text } = bumpTag('image:\n  tag: 1.9   # c\n', {}, tag);
      assert.equal(text, `image:\n  tag: "${tag}"   # c\n`);
      assert.equal(parse(text).image.tag, tag);
      assert.equal(parse(text, { version: '1.1' }).image.tag, tag);
      assert.equal(readTag(text, {}), tag);
    }
    for (const tag of ['1.9.1', 'v1.10', '1.10-alpine', 'sha-0777', '_1']) {
      assert.equal(bumpTag('image:\n  tag: 1.9\n', {}, tag).text, `image:\n  tag: ${tag}\n`);
    }
    // The tag inside a reference is part of a string already.
    assert.equal(
      bumpTag('services:\n  a:\n    image: nginx:1.9\n', { service: 'a' }, '1.10').text,
      'services:\n  a:\n    image: nginx:1.10\n',
    );
  });

  it('fills an unset tag: empty, null, empty-quoted, or a reference without tag', () => {
    const cases: [string, string][] = [
      ['image:\n  tag:\n', 'image:\n  tag: v2\n'],
      ['image:\n  tag:', 'image:\n  tag: v2'],
      ['image:\n  tag: # set by CI\n', 'image:\n  tag: v2 # set by CI\n'],
      ['image:\n  tag: ~\n', 'image:\n  tag: v2\n'],
      ['image:\n  tag: null\n', 'image:\n  tag: v2\n'],
      ['image:\n  tag: ""\n', 'image:\n  tag: "v2"\n'],
      ['image: {repository: x, tag: }\n', 'image: {repository: x, tag: v2}\n'],
    ];
    for (const [before, after] of cases) {
      assert.equal(readTag(before, {}), undefined, before);
      const result = bumpTag(before, {}, 'v2');
      assert.deepEqual([result.text, result.previousTag], [after, undefined]);
    }
    const ref = bumpTag('services:\n  db:\n    image: postgres # pin me\n', {}, '16');
    assert.equal(ref.text, 'services:\n  db:\n    image: postgres:16 # pin me\n');
    assert.equal(readTag(ref.text, { service: 'db' }), '16');
  });

  it('accepts the config ManifestTarget as it is', () => {
    const target: ManifestTarget = { file: 'apps/shop/overlays/prod/kustomization.yaml', image: 'acme/api' };
    assert.equal(bumpTag(kustomization, target, '9.9.9').format, 'kustomize');
    const compose2: ManifestTarget = { file: 'docker-compose.prod.yml', service: 'db' };
    assert.equal(readTag(compose, compose2), '16.4-alpine');
    assert.equal(readTag(compose, { file: 'x.yaml', format: 'compose', service: 'web' }), '2.0.1');
  });

  it('edits a reference with a registry port and leaves the port alone', () => {
    const text = 'services:\n  web:\n    image: registry.example.com:5000/acme/web\n';
    const result = bumpTag(text, { service: 'web' }, 'v2');
    assertOnlyTagChanged(text, result.text, '', ':v2');
    assert.equal(readTag(result.text, { image: 'registry.example.com:5000/acme/web' }), 'v2');
  });
});

describe('detectFormat', () => {
  const detect = (text: string, file?: string) => detectFormat(parseManifest(text), file);
  it('tells the formats apart by content, with the file name as a hint', () => {
    assert.equal(detect('images:\n  - name: api\n    newTag: "1"\nresources: [base]\n'), 'kustomize');
    assert.equal(detect('services:\n  api:\n    port: 80\nimage:\n  tag: v1\n'), 'helm');
    assert.equal(detect('services:\n  api:\n    image: acme/api:1\n'), 'compose');
    assert.equal(detect('apiVersion: v1\nkind: List\nitems: []\n'), 'k8s');
    assert.equal(detect('image:\n  tag: v1\n', 'prod/values.yaml'), 'helm');
    assert.equal(detect('resources: [a.yaml]\n', 'base/kustomization.yml'), 'kustomize');
    assert.equal(detect('x-a: 1\n', 'docker-compose.override.yml'), 'compose');
  });

  it('finds containers in a kind: List and in a Pod', () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: one}
    spec:
      containers: [{name: app, image: "acme/api:1"}]
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: agent}
    spec: {template: {spec: {containers: [{name: app, image: "acme/agent:1"}]}}}
`;
    throwsNamed(
      () => bumpTag(list, { container: 'app' }, '2'),
      ManifestTargetAmbiguous,
      /Pod\/one: spec\.containers\[name=app\]\.image, DaemonSet\/agent: /,
    );
    const edited = bumpTag(list, { container: 'agent/app' }, '2').text;
    assertOnlyTagChanged(list, edited, 'agent:1', 'agent:2');
    assert.equal(readTag(edited, { image: 'acme/agent' }), '2');
  });

  it('finds a Helm image block by repository and refuses two', () => {
    const values =
      'api:\n  image: {repository: acme/api, tag: "1"}\nworker:\n  image: {repository: acme/api, tag: "1"}\n';
    throwsNamed(
      () => bumpTag(values, { image: 'acme/api' }, '2'),
      ManifestTargetAmbiguous,
      /api\.image\.tag, worker\.image\.tag.*--path/,
    );
    assert.equal(
      bumpTag(values, { path: 'worker.image' }, '2').text,
      values.replace(
        'worker:\n  image: {repository: acme/api, tag: "1"}',
        'worker:\n  image: {repository: acme/api, tag: "2"}',
      ),
    );
    throwsNamed(
      () => bumpTag(values, { path: 'worker.image', image: 'acme/web' }, '2'),
      ManifestTargetNotFound,
      /its repository is acme\/api/,
    );
  });
});

describe('selectors', () => {
  it('refuses a selector that does not apply to the format instead of ignoring it', () => {
    throwsNamed(
      () => bumpTag(compose, { container: 'api' }, 'v2'),
      ManifestTargetUnsupported,
      /^container api: applies to k8s manifests, and this one is compose \(detected/,
    );
    throwsNamed(
      () => bumpTag(k8s, { service: 'api' }, 'v2'),
      ManifestTargetUnsupported,
      /service api: applies to compose manifests, and this one is k8s/,
    );
    throwsNamed(
      () => bumpTag(helm, { format: 'helm', container: 'app' }, 'v2'),
      ManifestTargetUnsupported,
      /this one is helm$/,
    );
  });
});

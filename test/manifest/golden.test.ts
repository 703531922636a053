/**
 * Golden tests over real-world-shaped manifests in test/fixtures/manifests/: each bump must change only
 * the tag's characters, read back as the new tag, and leave every other target of the file as it was.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { bumpTag, detectFormat, locateTag, parseManifest, readTag, type TagTarget } from '../../lib/manifest/index.js';
import { assertOnlyTagChanged } from './diff.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/manifests/${name}`, import.meta.url), 'utf8');

interface Case {
  target: TagTarget;
  from: string;
  to: string;
  /** Bytes written, when they differ from `to` (quotes added to keep a string). */
  written?: string;
  /** The edited line must match. */
  line: RegExp;
}

const FILES: Record<string, { format: string; cases: Case[] }> = {
  'helm-values.yaml': {
    format: 'helm',
    cases: [
      { target: {}, from: '1.9.3', to: '1.9.4', line: /^  tag: "1\.9\.4"   # managed by fjord$/ },
      { target: { path: 'image' }, from: '1.9.3', to: '2.0.0-rc.1', line: /^  tag: "2\.0\.0-rc\.1"/ },
      {
        target: { image: 'registry.example.com/acme/api' },
        from: '1.9.3',
        to: 'sha-4f2a9c1',
        line: /^  tag: "sha-4f2a9c1"/,
      },
      {
        target: { path: 'worker.image.tag' },
        from: '1.9',
        to: '1.10',
        written: '"1.10"',
        line: /^    tag: "1\.10"          # plain on purpose/,
      },
      { target: { path: 'worker.image.tag' }, from: '1.9', to: '1.9.1', line: /^    tag: 1\.9\.1          # plain/ },
      {
        target: { image: 'registry.example.com/acme/migrations' },
        from: 'v2024.11.0',
        to: 'v2024.12.0',
        line: /^    tag: 'v2024\.12\.0'$/,
      },
      {
        target: { path: 'sidecars[name=envoy].image' },
        from: 'v1.31.2',
        to: 'v1.32.1',
        line: /^    image: docker\.io\/envoyproxy\/envoy:v1\.32\.1$/,
      },
      {
        target: { image: 'fluent/fluent-bit' },
        from: '3.1.9',
        to: '3.2.0',
        line: /^    image: "fluent\/fluent-bit:3\.2\.0"   # quoted reference$/,
      },
    ],
  },
  'kustomization.yaml': {
    format: 'kustomize',
    cases: [
      { target: { image: 'acme/api' }, from: '1.4.2', to: '1.5.0', line: /^    newTag: 1\.5\.0$/ },
      { target: { path: 'images[name=acme/api].newTag' }, from: '1.4.2', to: '1.4.3', line: /^    newTag: 1\.4\.3$/ },
      {
        target: { image: 'registry.example.com/acme/web' },
        from: '2.0',
        to: '2.1',
        line: /^    newTag: "2\.1"                        # quoted/,
      },
      { target: { image: 'nginx' }, from: '1.27-alpine', to: '1.27.3-alpine', line: /^    newTag: 1\.27\.3-alpine$/ },
    ],
  },
  'compose.yaml': {
    format: 'compose',
    cases: [
      {
        target: { service: 'api' },
        from: '1.4.2',
        to: '1.5.0',
        line: /^    image: registry\.example\.com\/acme\/api:1\.5\.0   # the web API$/,
      },
      {
        target: { service: 'worker', image: 'registry.example.com/acme/api' },
        from: '1.4.2',
        to: '1.5.0',
        line: /^    image: registry\.example\.com\/acme\/api:1\.5\.0$/,
      },
      {
        target: { service: 'web' },
        from: '2.0.1',
        to: '2.1.0',
        line: /^    image: 'registry\.example\.com:5000\/acme\/web:2\.1\.0'$/,
      },
      {
        target: { image: 'postgres' },
        from: '16.4-alpine',
        to: '16.6-alpine',
        line: /^    image: postgres:16\.6-alpine$/,
      },
      { target: { image: 'docker.io/library/redis' }, from: '7.4', to: '7.4.1', line: /^    image: "redis:7\.4\.1"$/ },
    ],
  },
  'k8s-app.yaml': {
    format: 'k8s',
    cases: [
      {
        target: { container: 'api/app' },
        from: '1.4.2',
        to: '1.5.0',
        line: /^          image: registry\.example\.com\/acme\/api:1\.5\.0   # fjord: tag$/,
      },
      {
        target: { container: 'migrate' },
        from: '1.4.2',
        to: '1.5.0',
        line: /^          image: registry\.example\.com\/acme\/api:1\.5\.0$/,
      },
      {
        target: { container: 'envoy' },
        from: 'v1.31.2',
        to: 'v1.32.1',
        line: /^          image: "envoyproxy\/envoy:v1\.32\.1"$/,
      },
      {
        target: { container: 'api-cleanup/app' },
        from: '1.4.2',
        to: '1.5.0',
        line: /^              image: 'registry\.example\.com\/acme\/api:1\.5\.0'$/,
      },
      {
        target: { image: 'redis' },
        from: '7.4',
        to: '7.4.1',
        line: /^      containers: \[\{name: redis, image: redis:7\.4\.1\}\]$/,
      },
      {
        target: { path: 'spec.template.spec.containers[name=envoy].image' },
        from: 'v1.31.2',
        to: 'v1.32.1',
        line: /envoy:v1\.32\.1"$/,
      },
    ],
  },
};

for (const [name, { format, cases }] of Object.entries(FILES)) {
  describe(`golden ${name}`, () => {
    const before = fixture(name);

    it(`is detected as ${format}, from the content and from the file name`, () => {
      assert.equal(detectFormat(parseManifest(before)), format);
      assert.equal(detectFormat(parseManifest(before), `envs/prod/${name}`), format);
    });

    for (const c of cases) {
      it(`${JSON.stringify(c.target)}: ${c.from} → ${c.to} changes only the tag`, () => {
        assert.equal(readTag(before, c.target), c.from);
        const result = bumpTag(before, c.target, c.to);
        assert.equal(result.changed, true);
        assert.equal(result.previousTag, c.from);
        assert.equal(result.format, format);
        const line = assertOnlyTagChanged(before, result.text, c.from, c.written ?? c.to);
        assert.match(line, c.line);
        assert.equal(readTag(result.text, c.target), c.to);
        // Every other target of the file (at another place) still reads what it read before.
        const offset = (t: TagTarget) => locateTag(parseManifest(before), t).site.node.range![0];
        for (const other of cases) {
          if (offset(other.target) !== offset(c.target)) assert.equal(readTag(result.text, other.target), other.from);
        }
        // The edited file is still the same YAML apart from that value, document separators included.
        assert.equal(parseAllDocuments(result.text).length, parseAllDocuments(before).length);
      });
    }
  });
}

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/errors.js';
import { loadConfig, parseConfig, resolveConfigPath } from '../../lib/config/index.js';
import { main } from '../../lib/cli/main.js';
import { configProblems } from '../fixtures/config-problems.js';

const minimal = `
sources: { gitlab: { webhookSecretEnv: SECRET } }
manifest: { backend: git, repository: ./m.git }
hosts:
  web-1: { address: 127.0.0.2, hostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" }
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    environments:
      prod:
        manifest: { file: prod/values.yaml, path: image.tag }
        hosts: [web-1]
`;

function problems(text: string): string[] {
  const found = configProblems(text);
  assert.ok(found.length > 0, 'expected a ConfigError');
  return found;
}

describe('config', () => {
  it('fills defaults for a minimal file', () => {
    const config = parseConfig(minimal);
    const app = config.apps.api!;
    assert.equal(app.tag, '{shortSha}');
    assert.equal(app.source.branch, 'main');
    assert.equal(app.source.trigger, 'merge');
    assert.equal(app.waitForImage, 15 * 60_000);
    assert.equal(config.hosts['web-1']!.port, 22);
    assert.equal(app.environments.prod!.rollout.batchSize, 1);
  });

  it('names the path of an unknown host', () => {
    const text = minimal.replace('hosts: [web-1]', 'hosts: [web-1, web-9]');
    assert.deepEqual(problems(text), ['apps.api.environments.prod.hosts[1]: unknown host "web-9"']);
  });

  it('rejects unknown keys with their path', () => {
    const text = minimal.replace('image: registry', 'imag: x\n    image: registry');
    assert.deepEqual(problems(text), ['apps.api.imag: unknown key']);
  });

  it('rejects bad values with their path', () => {
    const text = minimal.replace('address: 127.0.0.2', 'address: "127.0.0.2; rm -rf /"').replace('acme/api\n', 'acme/API\n');
    const found = problems(text);
    assert.ok(found.some((p) => p.startsWith('hosts.web-1.address:')), found.join('\n'));
  });

  it('rejects promotion loops and unknown promotion sources', () => {
    const text = minimal + `      staging:\n        manifest: { file: staging/values.yaml, path: image.tag }\n        promoteFrom: prod\n`;
    const loop = text.replace('hosts: [web-1]\n', 'hosts: [web-1]\n        promoteFrom: staging\n');
    assert.ok(problems(loop).some((p) => /promotion chain loops/.test(p)));
    const dangling = minimal.replace('hosts: [web-1]\n', 'hosts: [web-1]\n        promoteFrom: qa\n');
    assert.deepEqual(problems(dangling), ['apps.api.environments.prod.promoteFrom: unknown environment "qa" in app api']);
  });

  it('reports YAML syntax errors and missing sources', () => {
    assert.equal(problems('apps: [').length > 0, true);
    const noSource = minimal.replace('sources: { gitlab: { webhookSecretEnv: SECRET } }', '');
    assert.deepEqual(problems(noSource), ['apps.api.source.provider: no sources.gitlab is configured']);
  });

  it('resolves FJORD_CONFIG, then ./fjord.yaml, then examples/fjord.yaml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-config-'));
    assert.match(resolveConfigPath({ cwd: dir, env: {} }), /examples\/fjord\.yaml$/);
    writeFileSync(join(dir, 'fjord.yaml'), minimal);
    assert.equal(resolveConfigPath({ cwd: dir, env: {} }), join(dir, 'fjord.yaml'));
    assert.equal(resolveConfigPath({ cwd: dir, env: { FJORD_CONFIG: 'other.yaml' } }), join(dir, 'other.yaml'));
    assert.equal(loadConfig({ cwd: dir, env: {} }).config.apps.api!.image, 'registry.example.com/acme/api');
  });

  it('the example config is valid', () => {
    const { config } = loadConfig({ file: new URL('../../examples/fjord.yaml', import.meta.url).pathname });
    assert.ok(Object.keys(config.apps).length >= 2);
  });
});

describe('fjord config', () => {
  const run = async (args: string[], cwd = process.cwd()) => {
    let out = '';
    let err = '';
    const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s), env: {}, cwd });
    return { code, out, err };
  };

  it('check prints problems with paths and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-config-'));
    writeFileSync(join(dir, 'bad.yaml'), minimal.replace('[web-1]', '[web-7]'));
    const r = await run(['config', 'check', 'bad.yaml'], dir);
    assert.equal(r.code, 1);
    assert.match(r.err, /apps\.api\.environments\.prod\.hosts\[0\]: unknown host "web-7"/);
  });

  it('check prints a summary and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-config-'));
    writeFileSync(join(dir, 'fjord.yaml'), minimal);
    const r = await run(['config', 'check'], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /app api: gitlab:acme\/api@main \(merge\)/);
  });

  it('schema prints a JSON Schema that knows the top-level keys', async () => {
    const r = await run(['config', 'schema']);
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.out);
    assert.deepEqual(Object.keys(schema.properties).sort(), ['apps', 'hosts', 'manifest', 'notify', 'reconcile', 'registries', 'sources', 'ssh', 'statusPage', 'worker']);
    assert.equal(schema.additionalProperties, false);
  });
});

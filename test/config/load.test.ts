import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig, parseConfig, resolveConfigPath } from '../../lib/config/index.js';
import { configSchema } from '../../lib/config/schema.js';
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

  it('refuses secrets.file on a strategy whose containers could never see the env file', () => {
    const withSecrets = minimal.replace(
      'hosts: [web-1]\n',
      'hosts: [web-1]\n        secrets: { file: secrets/prod.enc.yaml }\n',
    );
    assert.equal(parseConfig(withSecrets).apps.api!.environments.prod!.secrets!.file, 'secrets/prod.enc.yaml');
    const compose = withSecrets.replace(
      'hosts: [web-1]\n',
      'hosts: [web-1]\n        rollout: { strategy: compose, compose: { directory: /srv/api, service: api } }\n',
    );
    assert.deepEqual(problems(compose), [
      'apps.api.environments.prod.secrets: needs rollout.strategy docker (the env file is passed with docker run --env-file)',
    ]);
  });

  it('rejects unknown keys with their path', () => {
    const text = minimal.replace('image: registry', 'imag: x\n    image: registry');
    assert.deepEqual(problems(text), ['apps.api.imag: unknown key']);
  });

  it('rejects bad values with their path', () => {
    const text = minimal
      .replace('address: 127.0.0.2', 'address: "127.0.0.2; rm -rf /"')
      .replace('acme/api\n', 'acme/API\n');
    const found = problems(text);
    assert.ok(
      found.some((p) => p.startsWith('hosts.web-1.address:')),
      found.join('\n'),
    );
  });

  it('rejects promotion loops and unknown promotion sources', () => {
    const text =
      minimal +
      `      staging:\n        manifest: { file: staging/values.yaml, path: image.tag }\n        promoteFrom: prod\n`;
    const loop = text.replace('hosts: [web-1]\n', 'hosts: [web-1]\n        promoteFrom: staging\n');
    assert.ok(problems(loop).some((p) => /promotion chain loops/.test(p)));
    const dangling = minimal.replace('hosts: [web-1]\n', 'hosts: [web-1]\n        promoteFrom: qa\n');
    assert.deepEqual(problems(dangling), [
      'apps.api.environments.prod.promoteFrom: unknown environment "qa" in app api',
    ]);
  });

  it('rejects a soak after an unknown environment, after itself, or without promoteFrom', () => {
    const staging = `      staging:\n        manifest: { file: staging/values.yaml, path: image.tag }\n`;
    const soak = (s: string) => minimal.replace('hosts: [web-1]\n', `hosts: [web-1]\n        ${s}\n`) + staging;
    assert.deepEqual(problems(soak('promoteFrom: staging\n        soak: { after: qa, healthyFor: 30m }')), [
      'apps.api.environments.prod.soak.after: unknown environment "qa" in app api',
    ]);
    assert.deepEqual(problems(soak('promoteFrom: staging\n        soak: { after: prod, healthyFor: 30m }')), [
      'apps.api.environments.prod.soak.after: an environment cannot soak after itself',
    ]);
    assert.deepEqual(problems(soak('soak: { after: staging, healthyFor: 30m }')), [
      'apps.api.environments.prod.soak: needs promoteFrom (a soak holds promotions only)',
    ]);
    assert.equal(
      parseConfig(soak('promoteFrom: staging\n        soak: { after: staging, healthyFor: 30m }')).apps.api!
        .environments.prod!.soak?.healthyFor,
      30 * 60_000,
    );
  });

  it('rejects protect.project: manifest without a GitLab manifest project', () => {
    const protect = minimal.replace(
      'hosts: [web-1]\n',
      'hosts: [web-1]\n        protect: { project: manifest, approvals: 1 }\n',
    );
    assert.deepEqual(problems(protect), [
      'apps.api.environments.prod.protect.project: manifest needs manifest.backend gitlab and manifest.project (its members are read through the GitLab API)',
    ]);
    const gitlab = protect
      .replace('manifest: { backend: git, repository: ./m.git }', 'manifest: { backend: gitlab, project: acme/deploy }')
      .replace(
        'sources: { gitlab: { webhookSecretEnv: SECRET } }',
        'sources: { gitlab: { webhookSecretEnv: SECRET, tokenEnv: GITLAB_TOKEN } }',
      );
    assert.equal(parseConfig(gitlab).apps.api!.environments.prod!.protect?.project, 'manifest');
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
    const code = await main(args, {
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        err += s;
      },
      env: {},
      cwd,
    });
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
    assert.deepEqual(Object.keys(schema.properties).sort(), [
      'apps',
      'commands',
      'freezes',
      'hosts',
      'manifest',
      'notify',
      'reconcile',
      'registries',
      'secrets',
      'sources',
      'ssh',
      'statusPage',
      'worker',
    ]);
    assert.equal(schema.additionalProperties, false);
    // Deploy freeze windows (issue 14, item 1): an editor completes their keys.
    assert.deepEqual(Object.keys(schema.properties.freezes.items.properties).sort(), [
      'blockRollbacks',
      'cron',
      'duration',
      'environments',
      'kind',
      'name',
      'timeZone',
      'until',
    ]);
  });
});

// `healthCheck.port` is what the host probes (`http://127.0.0.1:<port><path>`), so it is required, except
// behind `rollout.proxy`, where the probe goes to the new container's slot address (lib/rollout/proxy/probe-at.ts).
describe('healthCheck.port', () => {
  const withRollout = (rollout: string) =>
    minimal.replace('hosts: [web-1]\n', `hosts: [web-1]\n        rollout: ${rollout}\n`);
  const PROXY = 'proxy: { containerPort: 8080, hostPorts: [18080, 18081] }';
  const valid = (text: string) => assert.doesNotThrow(() => parseConfig(text));

  it('may be left out behind rollout.proxy', () => {
    const env = parseConfig(withRollout(`{ healthCheck: { path: /healthz }, ${PROXY} }`)).apps.api!.environments.prod!;
    assert.deepEqual(env.rollout.healthCheck, { path: '/healthz', interval: 1000, timeout: 60_000 });
  });

  it('is required without a proxy, with an error naming its path', () => {
    assert.deepEqual(problems(withRollout('{ healthCheck: { path: /healthz } }')), [
      'apps.api.environments.prod.rollout.healthCheck.port: required (the host probes http://127.0.0.1:<port><path>); only behind rollout.proxy may it be left out',
    ]);
    valid(withRollout('{ healthCheck: { path: /healthz, port: 8080 } }'));
    // A command check has no port at all; a wrong one is told what is wrong with it, not to add a port.
    valid(withRollout('{ healthCheck: { command: ["true"] } }'));
    const typo = problems(withRollout('{ healthCheck: { command: ["true"], intervall: 1s } }'));
    assert.ok(
      typo.length > 0 &&
        typo.every((p) => p.startsWith('apps.api.environments.prod.rollout.healthCheck') && !p.includes('port')),
      typo.join('\n'),
    );
  });

  it('is optional in the JSON Schema for editors, which says when it is needed', () => {
    type Node = { properties?: Record<string, { description?: string }>; required?: string[] };
    // The HTTP variant of healthCheck: the one object schema with both `path` and `port`.
    const find = (node: unknown): Node | undefined => {
      if (!node || typeof node !== 'object') return undefined;
      const n = node as Node;
      if (n.properties?.path && n.properties.port) return n;
      for (const v of Object.values(node)) {
        const found = find(v);
        if (found) return found;
      }
      return undefined;
    };
    const http = find(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }));
    assert.ok(http, 'no HTTP health check in the JSON Schema');
    assert.match(http.properties!.port!.description ?? '', /required unless rollout\.proxy is set/);
    assert.ok(!(http.required ?? []).includes('port'), JSON.stringify(http.required));
  });
});

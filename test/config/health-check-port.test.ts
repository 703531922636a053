// `healthCheck.port` is what the host probes (`http://127.0.0.1:<port><path>`), so it is required, except
// behind `rollout.proxy`, where the probe goes to the new container's slot address (lib/rollout/proxy/probe-at.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseConfig } from '../../lib/config/index.js';
import { configSchema } from '../../lib/config/schema.js';
import { ConfigError } from '../../lib/errors.js';

const config = (rollout: string) => `
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
        rollout: ${rollout}
`;
const PROXY = 'proxy: { containerPort: 8080, hostPorts: [18080, 18081] }';

function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
  return [];
}

describe('healthCheck.port', () => {
  it('may be left out behind rollout.proxy', () => {
    const env = parseConfig(config(`{ healthCheck: { path: /healthz }, ${PROXY} }`)).apps.api!.environments.prod!;
    assert.deepEqual(env.rollout.healthCheck, { path: '/healthz', interval: 1000, timeout: 60_000 });
  });

  it('is required without a proxy, with an error naming its path', () => {
    assert.deepEqual(problems(config('{ healthCheck: { path: /healthz } }')), [
      'apps.api.environments.prod.rollout.healthCheck.port: required (the host probes http://127.0.0.1:<port><path>); only behind rollout.proxy may it be left out',
    ]);
    assert.deepEqual(problems(config('{ healthCheck: { path: /healthz, port: 8080 } }')), []);
    // A command check has no port at all; a wrong one is told what is wrong with it, not to add a port.
    assert.deepEqual(problems(config('{ healthCheck: { command: ["true"] } }')), []);
    const typo = problems(config('{ healthCheck: { command: ["true"], intervall: 1s } }'));
    assert.ok(typo.length > 0 && typo.every((p) => p.startsWith('apps.api.environments.prod.rollout.healthCheck') && !p.includes('port')), typo.join('\n'));
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

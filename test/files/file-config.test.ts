/**
 * `files[]` in fjord.yaml: every path, mode and owner that reaches a host's shell as a positional
 * parameter is grammar-checked when the file is read, with the problem's path; the host-side scripts
 * are fixed, so a hostile value never becomes shell text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { parse, stringify } from 'yaml';
import { configProblems } from '../fixtures/config-problems.js';
import { hashFiles, stageFile, swapFile } from '../../lib/files/file-commands.js';
import { renderTemplate } from '../../lib/files/render-template.js';

/** A one-app fjord.yaml whose environment `prod` (on host web-1) has these `files:` lines (YAML, 10 spaces in). */
const config = (files: string): string =>
  stringify({
    sources: { gitlab: { webhookSecretEnv: 'SECRET' } },
    manifest: { backend: 'git', repository: './m.git' },
    hosts: { 'web-1': { address: '127.0.0.2', hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' } },
    apps: {
      api: {
        source: { project: 'acme/api' },
        image: 'registry.example.com/acme/api',
        environments: {
          prod: {
            manifest: { file: 'prod/values.yaml', path: 'image.tag' },
            hosts: ['web-1'],
            files: parse(files.replace(/^ {10}/gm, '')),
          },
        },
      },
    },
  });
const problems = configProblems;

describe('files[] in fjord.yaml', () => {
  it('accepts the README nginx example and fills the defaults', () => {
    const c = parseConfig(
      config(
        `          - { source: nginx/nginx.conf, target: /etc/nginx/nginx.conf, owner: root:root, template: true, validate: [nginx, -t, -c, "{file}"], reload: { nginx: {} } }`,
      ),
    );
    const f = c.apps.api!.environments.prod!.files[0]!;
    assert.equal(f.mode, '0644');
    assert.deepEqual(f.reload, { nginx: { pidFile: '/run/nginx.pid' } });
    assert.equal(f.prune, false);
  });

  it('rejects targets, sources, modes and owners outside their grammar, naming the path', () => {
    const bad = problems(
      config(
        [
          '          - { source: ../etc/passwd, target: ok.conf }',
          '          - { source: a.conf, target: "/etc/$(reboot)" }',
          '          - { source: a.conf, target: "/etc/../root/.ssh/authorized_keys" }',
          '          - { source: a.conf, target: "x; rm -rf ~" }',
          '          - { source: a.conf, target: b.conf, mode: "u+s" }',
          '          - { source: a.conf, target: c.conf, owner: "root;id" }',
          '          - { source: a.conf, target: d.conf, reload: [nginx, -s, reload], restart: true }',
        ].join('\n'),
      ),
    );
    const at = (i: number) => `apps.api.environments.prod.files[${i}]`;
    for (const [i, key] of [
      [0, 'source'],
      [1, 'target'],
      [2, 'target'],
      [3, 'target'],
      [4, 'mode'],
      [5, 'owner'],
      [6, 'restart'],
    ] as const)
      assert.ok(
        bad.some((p) => p.startsWith(`${at(i)}.${key}:`)),
        `${at(i)}.${key} in ${bad.join('\n')}`,
      );
  });

  it("rejects a host group outside the environment's hosts and a target listed twice", () => {
    const bad = problems(
      config(
        [
          '          - { source: a.conf, target: e.conf, hosts: [web-9] }',
          '          - { source: b.conf, target: e.conf }',
        ].join('\n'),
      ),
    );
    assert.deepEqual(bad, [
      'apps.api.environments.prod.files[0].hosts[0]: "web-9" is not one of this environment\'s hosts',
      'apps.api.environments.prod.files[1].target: e.conf is listed twice',
    ]);
  });

  it('host commands carry paths as positional parameters of fixed scripts', () => {
    const argv = stageFile('/etc/nginx/nginx.conf', '0644', 'root:root');
    assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
    assert.deepEqual(argv.slice(3), ['fjord-stage', '/etc/nginx/nginx.conf', '0644', 'root:root']);
    assert.equal(swapFile('a', 'b')[2], swapFile('other', 'paths')[2], 'the script does not depend on the values');
    assert.deepEqual(hashFiles(['a', 'b']).slice(3), ['fjord-hash', 'a', 'b']);
  });

  it('templates render host values from fjord.yaml without HTML escaping', () => {
    const out = renderTemplate(
      'listen {{host.address}}:80; # {{host.labels.note}} {{#host.labels.edge}}edge{{/host.labels.edge}}',
      {
        host: { name: 'web-1', address: '10.0.0.1', labels: { note: 'a<b & "c"', edge: 'yes' } },
        app: 'api',
        environment: 'prod',
      },
    );
    assert.equal(out, 'listen 10.0.0.1:80; # a<b & "c" edge');
  });
});

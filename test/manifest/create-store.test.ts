import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { ConfigError } from '../../lib/errors.js';
import { createManifestStore } from '../../lib/manifest/create-store.js';
import { GitManifestStore } from '../../lib/manifest/store-git.js';
import { GitlabManifestStore } from '../../lib/manifest/store-gitlab.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { FILE, VALUES } from './helpers.js';

const config = (manifest: string, gitlab = '{ webhookSecretEnv: HOOK, tokenEnv: GITLAB_TOKEN }') =>
  parseConfig(`
sources: { gitlab: ${gitlab} }
manifest: ${manifest}
apps:
  api:
    source: { project: acme/api }
    image: registry.example.com/acme/api
    environments:
      prod: { manifest: { file: ${FILE}, path: api.tag } }
`);

const issues = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
  assert.fail('expected a ConfigError');
};

describe('createManifestStore', () => {
  it('gitlab: needs the project and the token variable, named by path', () => {
    const dataDir = tmpdir();
    assert.deepEqual(
      issues(() =>
        createManifestStore(config('{ backend: gitlab }'), { env: { GITLAB_TOKEN: 'glpat-x-000000' }, dataDir }),
      ),
      ['manifest.project: required when manifest.backend is gitlab'],
    );
    assert.deepEqual(
      issues(() => createManifestStore(config('{ backend: gitlab, project: acme/manifests }'), { env: {}, dataDir })),
      ['sources.gitlab.tokenEnv: environment variable GITLAB_TOKEN is not set'],
    );
    const store = createManifestStore(config('{ backend: gitlab, project: acme/manifests, branch: live }'), {
      env: { GITLAB_TOKEN: 'glpat-x-000000' },
      dataDir,
    });
    assert.ok(store instanceof GitlabManifestStore);
    assert.equal(store.branch, 'live');
  });

  it('git: needs a repository; a relative path resolves against the config directory', async () => {
    assert.deepEqual(
      issues(() => createManifestStore(config('{ backend: git }'), { dataDir: tmpdir() })),
      ['manifest.repository: required when manifest.backend is git'],
    );
    const repo = createBareRepo({ [FILE]: VALUES });
    const dataDir = mkdtempSync(join(tmpdir(), 'fjord-data-'));
    try {
      const configDir = join(repo.root, 'etc');
      const store = createManifestStore(config(`{ backend: git, repository: ${relative(configDir, repo.bare)} }`), {
        dataDir,
        baseDir: configDir,
      });
      assert.ok(store instanceof GitManifestStore);
      assert.equal((await store.read(FILE)).content, VALUES);
    } finally {
      repo.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

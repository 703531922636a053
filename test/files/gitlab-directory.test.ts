/**
 * Directory sources (`source: conf.d/`) on the GitLab manifest backend: listed with the repository tree API
 * (`recursive=true`, every page followed), each file read with the files API, through the kept client
 * (@gitbeaker/rest) against the GitLab stand-in over a real git repository.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDesiredFiles } from '../../lib/files/load-desired-files.js';
import { managedFileSchema } from '../../lib/files/file-schema.js';
import { GitlabManifestStore } from '../../lib/manifest/store-gitlab.js';
import { Secret } from '../../lib/secret.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';

const PROJECT = 'ops/manifests';
// More than one page of 100 tree entries (the files and the `sub` tree), so the listing must follow `Link: rel="next"`.
const FILES = Object.fromEntries(
  Array.from({ length: 120 }, (_, i) => [`nginx/conf.d/${String(i).padStart(3, '0')}.conf`, `# site ${i}\n`]),
);

describe('directory sources on the gitlab backend', () => {
  it('lists a directory through the tree API across pages, files only, and loads each file for every host', async () => {
    const repo = createBareRepo({
      'api/prod.yaml': 'image:\n  tag: v1\n',
      ...FILES,
      'nginx/conf.d/sub/deep.conf': '# deep\n',
      'nginx/other.conf': '# not under it\n',
    });
    const gitlab = await startGitlabStandIn({ projects: { [PROJECT]: { repo: repo.bare } } });
    try {
      const store = new GitlabManifestStore({
        url: gitlab.url,
        token: new Secret(gitlab.token),
        project: PROJECT,
        branch: 'main',
      });
      const listed = await store.list('nginx/conf.d/');
      assert.deepEqual(listed, [...Object.keys(FILES), 'nginx/conf.d/sub/deep.conf'].sort());
      const pages = gitlab.state.requests.filter(
        (r) => r.method === 'GET' && r.path === `/projects/${PROJECT}/repository/tree`,
      );
      assert.ok(pages.length >= 2, `followed the pages (${pages.length} request(s))`);
      assert.deepEqual(await store.list('nginx/nowhere/'), [], 'a directory git does not have: no files');

      const files = [managedFileSchema.parse({ source: 'nginx/conf.d/', target: 'etc/nginx/conf.d' })];
      const config = {
        ssh: { stateDir: '.fjord' },
        hosts: { 'web-1': { address: '127.0.0.2', labels: {} }, 'web-2': { address: '127.0.0.3', labels: {} } },
      };
      const desired = await loadDesiredFiles(config, store, 'web', 'prod', { hosts: ['web-1', 'web-2'], files });
      for (const host of ['web-1', 'web-2']) {
        const mine = desired!.get(host)!;
        assert.equal(mine.length, 121, host);
        assert.deepEqual(
          mine.find((f) => f.target === 'etc/nginx/conf.d/sub/deep.conf')?.content?.toString(),
          '# deep\n',
        );
        assert.deepEqual(mine.find((f) => f.target === 'etc/nginx/conf.d/007.conf')?.content?.toString(), '# site 7\n');
      }
    } finally {
      await gitlab.close();
      repo.cleanup();
    }
  });
});

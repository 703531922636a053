/** The status page shows managed-file drift: the host row names the files, and each diff is folded under it, escaped. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DriftReport } from '../../lib/reconcile/drift.js';
import { renderHosts } from '../../lib/status-page/render-hosts.js';

const HOSTILE = '<script>alert(1)</script>';
const report: DriftReport = {
  inSync: false,
  checkedAt: '2026-01-01T00:00:00.000Z',
  environments: [
    {
      app: 'api',
      environment: 'prod',
      file: 'api/prod.yaml',
      desiredTag: 'v1',
      hosts: [
        {
          host: 'web-1',
          status: 'in-sync',
          desired: 'r/api:v1',
          running: 'r/api:v1',
          files: [{ source: 'n.conf', target: 'nginx.conf', status: 'in-sync', onChange: 'reload' }],
        },
        {
          host: 'web-2',
          status: 'drifted',
          desired: 'r/api:v1',
          running: 'r/api:v1',
          files: [
            {
              source: 'n.conf',
              target: 'nginx.conf',
              status: 'drifted',
              onChange: 'reload',
              diff: `--- git:n.conf\n+++ web-2:nginx.conf\n@@ -1 +1 @@\n-ok\n+${HOSTILE}\n`,
            },
            { source: 'k.pem', target: 'tls/k.pem', status: 'drifted', onChange: 'reload' },
          ],
        },
      ],
    },
  ],
};

describe('status page and managed files', () => {
  it('names the drifted files on the host row and folds each diff, escaped', () => {
    const page = renderHosts(report).toString();
    const row = (host: string) =>
      page.slice(page.indexOf(`data-host="${host}"`), page.indexOf('</tr>', page.indexOf(`data-host="${host}"`)));
    assert.match(row('web-2'), /files: nginx\.conf drifted, tls\/k\.pem drifted/);
    assert.doesNotMatch(row('web-2'), /runs another image/, 'the image is the one the manifest says');
    assert.match(
      row('web-2'),
      /<details class="diff"><summary>nginx\.conf: diff<\/summary><pre>--- git:n\.conf\n\+\+\+ web-2:nginx\.conf/,
    );
    assert.equal(page.includes(HOSTILE), false);
    assert.match(page, /\+&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.equal((row('web-2').match(/<details/g) ?? []).length, 1, 'a secret file (no diff) gets no fold');
    assert.doesNotMatch(row('web-1'), /<details|files:/);
  });
});

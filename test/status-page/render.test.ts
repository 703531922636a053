/**
 * The pure status page renderer: rows highlighted by status (class and text badge), the summary, the
 * deploys table with links only where the view has them, and every value from hosts and git escaped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyHost } from '../../lib/reconcile/classify-host.js';
import type { DriftReport } from '../../lib/reconcile/drift.js';
import { HostUnreachable } from '../../lib/ssh/errors.js';
import { escapeHtml } from '../../lib/status-page/escape-html.js';
import { ago, formatTime } from '../../lib/status-page/render-deploys.js';
import { renderStatusPage } from '../../lib/status-page/render-page.js';
import type { DeployRow, StatusView } from '../../lib/status-page/view.js';

const IMAGE = 'registry.example.com/acme/api';
const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;
const running = (tag: string, state = 'running') => ({
  ref: `${IMAGE}:${tag}`,
  state,
  container: 'api-prod',
  labels: {},
});
const reading = (host: string) => ({ host, image: IMAGE, desiredTag: 'v1' });

function report(): DriftReport {
  return {
    inSync: false,
    checkedAt: '2025-03-01T10:00:00.000Z',
    environments: [
      {
        app: 'api',
        environment: 'prod',
        file: 'api/prod.yaml',
        desiredTag: 'v1',
        hosts: [
          classifyHost({ ...reading('web-1'), running: running('v1') }),
          classifyHost({ ...reading('web-2'), running: running('v0-hotfix') }),
          classifyHost({
            ...reading('web-3'),
            error: new HostUnreachable('web-3', '127.0.0.4', 2222, `connect ECONNREFUSED ${HOSTILE}`),
          }),
          classifyHost({ ...reading('web-4'), running: running('v1', 'exited') }),
        ],
      },
      {
        app: 'api',
        environment: 'staging',
        file: 'api/staging.yaml',
        hosts: [],
        error: `ManifestNotFound: api/staging.yaml ${HOSTILE}`,
      },
    ],
  };
}

const deploy: DeployRow = {
  commitId: '0123456789abcdef0123456789abcdef01234567',
  subject: `deploy(api/prod): ${HOSTILE}`,
  author: 'fjord & co',
  authoredAt: '2025-03-01T09:58:00.000Z',
  where: 'api/prod',
  trailers: {
    'Fjord-Reason': 'merge',
    'Fjord-Source': `acme/api@${'a'.repeat(40)}`,
    'Fjord-MR': 'acme/api!12',
    'Fjord-Author': `Eve ${HOSTILE}`,
  },
  commitUrl: 'https://gitlab.example.com/ops/manifests/-/commit/0123456789abcdef0123456789abcdef01234567',
  mrUrl: 'https://gitlab.example.com/acme/api/-/merge_requests/12',
};

const view = (over: Partial<StatusView> = {}): StatusView => ({
  generatedAt: '2025-03-01T10:00:30.000Z',
  report: report(),
  deploys: [deploy],
  ...over,
});
const rowOf = (page: string, host: string): string => {
  const row = new RegExp(`<tr [^>]*data-host="${host}"[^>]*>[\\s\\S]*?</tr>`).exec(page)?.[0];
  assert.ok(row, `no row for ${host}`);
  return row;
};
const classOf = (row: string): string[] => /class="([^"]*)"/.exec(row)![1]!.split(' ');

describe('status page renderer', () => {
  it('highlights drifted, missing and unreachable rows with a class and a text badge; in-sync rows stay plain', () => {
    const page = renderStatusPage(view());
    const web1 = rowOf(page, 'web-1');
    assert.deepEqual(classOf(web1), ['row', 'row-in-sync']);
    assert.match(web1, /badge-in-sync">in sync</);
    const web2 = rowOf(page, 'web-2');
    assert.deepEqual(classOf(web2), ['row', 'row-drifted', 'problem']);
    assert.match(web2, />DRIFTED</);
    assert.match(web2, /<code>api:v1<\/code>.*<code>api:v0-hotfix<\/code>/s, 'desired then running tag');
    assert.match(web2, new RegExp(`title="${IMAGE}:v0-hotfix"`));
    assert.deepEqual(classOf(rowOf(page, 'web-3')).slice(1), ['row-unreachable', 'problem']);
    assert.match(
      rowOf(page, 'web-3'),
      />UNREACHABLE<.*HostUnreachable: host web-3 \(127\.0\.0\.4:2222\) unreachable: connect ECONNREFUSED &quot;/s,
    );
    assert.match(rowOf(page, 'web-4'), /row-missing problem.*>MISSING<.*container exited/s);
    assert.match(
      page,
      /<tr class="row row-error problem" data-app="api" data-env="staging">.*>ERROR<.*ManifestNotFound/s,
    );
    assert.match(
      page,
      /id="summary">attention — 1 in sync · 1 drifted · 1 unreachable · 1 missing · 1 manifest error</,
    );
  });

  it('says all in sync when it is', () => {
    const clean: DriftReport = {
      inSync: true,
      checkedAt: '2025-03-01T10:00:00.000Z',
      environments: [
        { ...report().environments[0]!, hosts: [classifyHost({ ...reading('web-1'), running: running('v1') })] },
      ],
    };
    const page = renderStatusPage(view({ report: clean }));
    assert.match(page, /class="summary summary-ok" id="summary">all in sync — 1 in sync</);
    assert.doesNotMatch(page, /class="[^"]*\bproblem\b/);
  });

  it('escapes every value from hosts and git, in text and in attributes', () => {
    const hostile = report();
    hostile.environments[0]!.hosts[1] = classifyHost({
      ...reading('web-2'),
      running: { ...running('v0'), ref: `${IMAGE}:v0${HOSTILE}`, container: HOSTILE },
    });
    const page = renderStatusPage(view({ report: hostile, deploysError: undefined }));
    assert.doesNotMatch(page, /<script|<img|onerror=alert\(2\)>/i);
    assert.ok(page.includes(escapeHtml(HOSTILE)), 'shown, escaped');
    assert.match(page, /title="registry\.example\.com\/acme\/api:v0&quot;&gt;&lt;script&gt;/);
    assert.match(page, /deploy\(api\/prod\): &quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(page, /fjord &amp; co/);
    // The only elements are the page's own: no tag name came from a value.
    const tags = new Set([...page.matchAll(/<([a-z0-9]+)[\s>]/g)].map((m) => m[1]));
    assert.deepEqual([...tags].sort(), [
      'a',
      'body',
      'br',
      'code',
      'h1',
      'h2',
      'head',
      'header',
      'html',
      'meta',
      'p',
      'small',
      'span',
      'style',
      'table',
      'tbody',
      'td',
      'th',
      'thead',
      'time',
      'title',
      'tr',
    ]);
  });

  it('lists deploys with trailers, linking only what has a link', () => {
    const page = renderStatusPage(view());
    assert.match(
      page,
      /<a href="https:\/\/gitlab\.example\.com\/ops\/manifests\/-\/commit\/0123456789abcdef0123456789abcdef01234567"><code>01234567<\/code><\/a>/,
    );
    assert.match(
      page,
      /MR <a href="https:\/\/gitlab\.example\.com\/acme\/api\/-\/merge_requests\/12">acme\/api!12<\/a>/,
    );
    assert.match(page, /source <code>acme\/api@aaaaaaaa<\/code>/, 'no sourceUrl: plain text, sha shortened');
    assert.match(page, /badge-reason">merge</);
    assert.match(page, /2025-03-01 09:58 UTC<br><small>3 min ago/);
    const plain = renderStatusPage(
      view({ deploys: [{ ...deploy, commitUrl: undefined as never, mrUrl: undefined as never }] }),
    );
    assert.doesNotMatch(plain, /<a /);
  });

  it("shows a rollback's failure report from its commit body, escaped, folded under 'what failed'", () => {
    const details =
      'host web-2 failed at health: HTTP 500\nlast log lines:\n  <script>alert(1)</script> database unreachable';
    const page = renderStatusPage(view({ deploys: [{ ...deploy, subject: 'rollback(api/prod): api:v1', details }] }));
    assert.match(
      page,
      /rollback\(api\/prod\): api:v1<details class="failure"><summary>what failed<\/summary><pre>host web-2 failed at health: HTTP 500\nlast log lines:\n  &lt;script&gt;alert\(1\)&lt;\/script&gt; database unreachable<\/pre><\/details>/,
    );
    assert.doesNotMatch(renderStatusPage(view()), /what failed/);
  });

  it('shows why a part is missing instead of failing', () => {
    const page = renderStatusPage(
      view({
        report: undefined,
        error: `ConfigError: ssh.privateKeyFile: cannot read ${HOSTILE}`,
        deploysError: 'ManifestStoreError: git fetch failed',
      }),
    );
    assert.match(page, /The drift check could not run: ConfigError: ssh\.privateKeyFile: cannot read &quot;&gt;/);
    assert.match(page, /The manifest history could not be read: ManifestStoreError: git fetch failed/);
    assert.match(page, /summary-drift/);
    assert.match(renderStatusPage(view({ refreshing: true })), /content="5".*refreshing…/s);
    const first = renderStatusPage({ generatedAt: '2025-03-01T10:00:30.000Z', deploys: [], refreshing: true });
    assert.match(first, /content="5".*checking the hosts.*Checking the hosts for the first time/s);
    assert.doesNotMatch(first, /could not/);
  });

  it('formats times and ages', () => {
    assert.equal(formatTime('2025-03-01T09:58:07+02:00'), '2025-03-01 07:58 UTC');
    assert.equal(formatTime('not a time'), 'not a time');
    assert.equal(ago('2025-03-01T10:00:00Z', '2025-03-01T10:00:42Z'), '42 s ago');
    assert.equal(ago('2025-03-01T07:00:00Z', '2025-03-01T10:00:00Z'), '3 h ago');
    assert.equal(ago('2025-02-20T10:00:00Z', '2025-03-01T10:00:00Z'), '9 d ago');
  });
});

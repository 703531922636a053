/**
 * The status page end to end (issue 7 "What it must show"): the real sshd fleet with hosts changed by
 * hand (test/fixtures/status-demo.ts), a real git manifest repository, `fjord start`'s embedded mode
 * serving `GET /` over real HTTP, and the page rendered by headless Debian Chromium through
 * playwright-core: the drifted host's row and an in-sync row, as a person would see them. Then the token
 * mode: 401 without the token, 200 with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../fixtures/chromium.js';
import { startStatusDemo, type StatusDemo } from '../fixtures/status-demo.js';

describe('status page in headless Chromium', { skip: chromiumMissing() }, () => {
  let demo: StatusDemo;
  let browser: Browser;
  before(async () => {
    [demo, browser] = await Promise.all([startStatusDemo(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('shows the drifted, missing and unreachable hosts highlighted, the in-sync host plain, and the last deploys', async () => {
    const fjord = await demo.startFjord();
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    // web-4's sshd is down: the check classifies it and the page still answers (how long a request may
    // wait for a slow check is bounded in cachedStatusSource, tested in source.test.ts without timing).
    const res = await page.goto(`${fjord.url}/`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.title(), '✗ fjord status');

    const row = (host: string) => page.locator(`tr[data-host="${host}"]`);
    const drifted = row('web-3');
    assert.match((await drifted.getAttribute('class')) ?? '', /\brow-drifted\b.*\bproblem\b/);
    assert.deepEqual(await drifted.locator('td').allInnerTexts(), [
      'web-3',
      'DRIFTED',
      'api:v42',
      'api:v41-hotfix',
      'api-prod (running)',
      'runs another image than the manifest says',
    ]);
    const inSync = row('web-1');
    assert.equal(await inSync.getAttribute('class'), 'row row-in-sync');
    assert.deepEqual((await inSync.locator('td').allInnerTexts()).slice(0, 4), [
      'web-1',
      'in sync',
      'api:v42',
      'api:v42',
    ]);
    assert.equal(await row('web-2').getAttribute('data-status'), 'missing');
    assert.match(await row('web-2').innerText(), /MISSING[\s\S]*container exited/);
    assert.match(await row('web-4').innerText(), /UNREACHABLE[\s\S]*HostUnreachable/);
    // The highlight is really drawn: the drifted row's cells have another background than the in-sync row's.
    const background = (host: string) =>
      row(host)
        .locator('td')
        .nth(1)
        .evaluate((td) => getComputedStyle(td).backgroundColor);
    assert.notEqual(await background('web-3'), await background('web-1'));
    assert.match(
      await page.locator('#summary').innerText(),
      /^attention — 1 in sync · 1 missing · 1 drifted · 1 unreachable$/,
    );

    // The last deploys, newest first, from the manifest history, with the trailers.
    const deploys = page.locator('tr.deploy');
    assert.equal(await deploys.count(), 4, 'three deploys and the initial commit');
    const newest = await deploys.first().innerText();
    assert.match(
      newest,
      /api\/prod[\s\S]*deploy\(api\/prod\): 127\.0\.0\.1:\d+\/acme\/api:v42[\s\S]*promote[\s\S]*MR acme\/api!42[\s\S]*by Ada Lovelace/,
    );
    const head = demo.repo.git(['rev-parse', 'main']).trim();
    assert.equal(await deploys.first().getAttribute('data-commit'), head);
    assert.equal(
      await deploys.first().locator('a', { hasText: 'acme/api!42' }).getAttribute('href'),
      'https://gitlab.com/acme/api/-/merge_requests/42',
    );
    assert.equal(await deploys.last().locator('td.subject').innerText(), 'initial manifests');
    assert.deepEqual(problems, [], 'no console errors (CSP, missing assets)');

    // A reload within the cache's TTL does not check the hosts again: the same `checked` time.
    const checked = await page.locator('#checked').getAttribute('datetime');
    assert.ok(checked && Date.now() - Date.parse(checked) < 30_000, String(checked));
    await page.reload();
    assert.equal(await page.locator('#checked').getAttribute('datetime'), checked);
    assert.equal((await fetch(`${fjord.url}/healthz`).then((r) => r.json())).ok, true);
    await page.close();
  });

  it('with statusPage.tokenEnv: 401 without the token, 200 with it', async () => {
    const token = 'status-token-5c2e91ab7d';
    const fjord = await demo.startFjord({
      extraYaml: 'statusPage: { tokenEnv: FJORD_STATUS_TOKEN }\n',
      env: { FJORD_STATUS_TOKEN: token },
    });
    assert.equal((await fetch(`${fjord.url}/`)).status, 401);
    assert.equal((await fetch(`${fjord.url}/?token=nope`)).status, 401);
    assert.equal((await fetch(`${fjord.url}/`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const page = await browser.newPage();
    assert.equal((await page.goto(`${fjord.url}/`))?.status(), 401);
    const res = await page.goto(`${fjord.url}/?token=${token}`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('tr[data-host="web-3"]').getAttribute('data-status'), 'drifted');
    await page.close();
  });
});

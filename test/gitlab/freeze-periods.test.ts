/** The GitLab stand-in's Freeze Periods API (docs.gitlab.com/api/freeze_periods/), through @gitbeaker/rest as fjord calls it. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Gitlab } from '@gitbeaker/rest';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';

describe('GitLab stand-in: freeze periods', () => {
  let repo: TestRepo;
  let gitlab: GitlabStandIn;
  before(async () => {
    repo = createBareRepo({ 'README.md': 'x\n' }, { name: 'api' });
    gitlab = await startGitlabStandIn({ projects: { 'acme/api': { repo: repo.bare } } });
  });
  after(async () => {
    await gitlab?.close();
    repo?.cleanup();
  });

  it('creates, lists (by created_at), shows, updates and deletes; cron_timezone defaults to UTC', async () => {
    const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
    const a = await api.FreezePeriods.create('acme/api', '0 23 * * 5', '0 8 * * 1');
    const b = await api.FreezePeriods.create(1, '0 18 24 12 *', '0 18 26 12 *', { cronTimezone: 'Europe/Berlin' });
    assert.equal(a.cron_timezone, 'UTC');
    assert.deepEqual(
      (await api.FreezePeriods.all('acme/api')).map((f) => [f.id, f.freeze_start, f.freeze_end, f.cron_timezone]),
      [
        [a.id, '0 23 * * 5', '0 8 * * 1', 'UTC'],
        [b.id, '0 18 24 12 *', '0 18 26 12 *', 'Europe/Berlin'],
      ],
    );
    assert.equal((await api.FreezePeriods.show('acme/api', b.id)).freeze_end, '0 18 26 12 *');
    assert.equal((await api.FreezePeriods.edit('acme/api', a.id, { freezeEnd: '0 7 * * 1' })).freeze_end, '0 7 * * 1');
    await api.FreezePeriods.remove('acme/api', a.id);
    assert.deepEqual(
      (await api.FreezePeriods.all('acme/api')).map((f) => f.id),
      [b.id],
    );
    await assert.rejects(api.FreezePeriods.show('acme/api', a.id), (err: Error) =>
      /404|Not Found/.test(err.message + JSON.stringify((err.cause as object) ?? {})),
    );
  });

  it('refuses an invalid cron or time zone with 400, as GitLab does', async () => {
    const res = await fetch(`${gitlab.url}/api/v4/projects/1/freeze_periods`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'private-token': gitlab.token },
      body: JSON.stringify({ freeze_start: '99 * * * *', freeze_end: '0 8 * * 1', cron_timezone: 'Mars/Olympus' }),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      message: { freeze_start: [' is invalid syntax'], cron_timezone: [' is invalid syntax'] },
    });
    const unauthorized = await fetch(`${gitlab.url}/api/v4/projects/1/freeze_periods`);
    assert.equal(unauthorized.status, 401);
  });
});

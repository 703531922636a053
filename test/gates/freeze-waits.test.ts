/**
 * The deploy waiting for a freeze, recorded in git (issue 14, item 1; lib/gates/freeze-waits.ts), through
 * the worker's deploy handler on a real bare manifest repository with the gates' clock injected: the record
 * is written while the handler still holds the job (before any queue hands it back), so a crash between the
 * two loses nothing; an older merge never replaces a newer one; a record that cannot be read fails closed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseConfig } from '../../lib/config/index.js';
import { FREEZE_WAITS_FILE } from '../../lib/gates/freeze-waits.js';
import { GateWait } from '../../lib/gates/gate.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger } from '../../lib/log.js';
import { silentNotifier } from '../../lib/notify/notifier.js';
import { makeDeployHandler } from '../../lib/worker/make-handler.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { makeJob } from '../fixtures/jobs.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';

const FILE = 'api/prod.yaml';
const INSIDE = Date.parse('2026-12-25T09:00:00Z');
const AFTER = Date.parse('2026-12-26T17:00:01Z');
const ctx = {
  heartbeat: async () => {},
  attempts: 1,
  logger: createLogger({ level: 'error', write: () => {} }),
  signal: new AbortController().signal,
};

function setup(files: Record<string, string> = {}) {
  const repo = createBareRepo({ [FILE]: 'image:\n  tag: v0\n', ...files });
  const config = parseConfig(
    oneAppConfigYaml({
      repository: repo.bare,
      file: FILE,
      extra:
        'freezes: [{ name: xmas, cron: "0 18 24 12 *", duration: 48h, timeZone: Europe/Berlin, environments: [prod] }]',
    }),
  );
  let now = INSIDE;
  const handle = makeDeployHandler({
    config,
    configPath: join(repo.root, 'fjord.yaml'),
    dataDir: mkdtempSync(join(tmpdir(), 'fjord-freeze-waits-')),
    env: {},
    now: () => new Date(now),
    notifier: silentNotifier,
  });
  const setNow = (ms: number) => {
    now = ms;
  };
  return { repo, handle, setNow };
}

/** A merge, ordered by its merge time (`committedAt`, in the past of the real clock, which clamps it), as the receiver builds it. */
const merge = (n: number, mergedAt: string): DeployJob =>
  makeJob({
    n,
    id: `job-freeze-waits-${n}`,
    enqueuedAt: new Date(INSIDE).toISOString(),
    source: { provider: 'gitlab', project: 'acme/api', ref: 'main', mr: n, committedAt: mergedAt },
  });
const recorded = (repo: TestRepo) =>
  (parse(repo.git(['show', `main:${FREEZE_WAITS_FILE}`])) as Record<string, { job: DeployJob }>)['api/prod']?.job.id;
const recordCommits = (repo: TestRepo) =>
  repo.git(['log', '--format=%s', 'main', '--', FREEZE_WAITS_FILE]).trim().split('\n').filter(Boolean);

describe('the deploy waiting for a freeze, recorded in git', () => {
  it('a held merge is recorded before its handler hands it back, so a crash before the queue copy is sent loses neither job; an older merge never replaces it and is superseded; after the freeze only the newer one rolls out', async () => {
    const { repo, handle, setNow } = setup();
    const older = merge(1, '2025-06-01T08:00:00Z');
    const newer = merge(2, '2025-06-01T08:30:00Z');
    await assert.rejects(handle(older, ctx), GateWait);
    // The handler threw its GateWait (what a worker turns into the held copy): the record is already in git.
    assert.equal(recorded(repo), older.id);
    await assert.rejects(handle(newer, ctx), GateWait);
    assert.equal(recorded(repo), newer.id, 'the newer merge replaces the entry');
    assert.match(
      recordCommits(repo)[0]!,
      /^freeze\(api\/prod\): v2 waits until 2026-12-26T17:00:00\.000Z, replacing v1$/,
    );
    // The worker died before sending the held copy: the message comes again, and nothing changes twice.
    await assert.rejects(handle(newer, ctx), GateWait);
    assert.equal(recordCommits(repo).length, 2, 'a redelivery of the recorded deploy writes nothing');
    // The older one's copy comes round during the freeze: it ends, naming the newer deploy; the entry stays.
    const replaced = await handle(older, ctx);
    assert.equal(replaced.status, 'superseded');
    assert.match(replaced.detail!, new RegExp(`waited for the same freeze: v2 \\(!2, ${newer.sha!.slice(0, 12)}\\)`));
    assert.equal(recorded(repo), newer.id);

    setNow(AFTER);
    // Released in the "wrong" order, the older first: it is still superseded, and the newer rolls out.
    assert.equal((await handle(older, ctx)).status, 'superseded');
    assert.equal(repo.git(['show', `main:${FILE}`]), 'image:\n  tag: v0\n', 'v1 never committed');
    assert.equal((await handle(newer, ctx)).status, 'deployed');
    assert.equal(repo.git(['show', `main:${FILE}`]), 'image:\n  tag: v2\n');
    repo.cleanup();
  });

  it('a freeze-waits file that does not parse holds the deploy a minute, naming the problem (fails closed); nothing committed', async () => {
    const { repo, handle } = setup({ [FREEZE_WAITS_FILE]: 'api/prod: { job: 42 }\n' });
    await assert.rejects(handle(merge(3, '2025-06-01T08:00:00Z'), ctx), (err: unknown) => {
      assert.ok(err instanceof GateWait);
      assert.equal(err.until.toISOString(), new Date(INSIDE + 60_000).toISOString());
      assert.match(err.reason, /could not be recorded \(\.fjord\/freeze-waits\.yaml: api\/prod\.job: /);
      return true;
    });
    assert.equal(repo.git(['show', `main:${FILE}`]), 'image:\n  tag: v0\n');
    repo.cleanup();
  });
});

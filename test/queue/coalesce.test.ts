/**
 * Issue 12, item 7, on the real embedded queue (journal on disk): an authenticated but spammy source cannot
 * starve an environment. Deploys of one app/environment coalesce to the newest (only it waits for its
 * image), a group holds at most `maxPerGroup` jobs, and both are said: the coalesced job is reported, a
 * full group is a 503 naming the app/environment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DeployJob } from '../../lib/job.js';
import { QueueFull } from '../../lib/queue/errors.js';
import { createLocalQueue, type LocalQueueOptions } from '../../lib/queue/local.js';
import { enqueueJobs } from '../../lib/receiver/enqueue.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';

const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 12, minute)).toISOString();
/** The n-th merge of api/prod, its source commit made at minute n. */
const merge = (n: number, over: Partial<DeployJob> = {}) => {
  const job = makeJob({ app: 'api', environment: 'prod', n, ...over });
  return { ...job, source: { ...job.source, committedAt: at(n) } };
};
const open = (options: Partial<LocalQueueOptions> = {}) =>
  createLocalQueue({
    key: testQueueKey(),
    dir: mkdtempSync(join(tmpdir(), 'fjord-coalesce-')),
    fsync: false,
    coalesce: true,
    ...options,
  });

describe('embedded queue: coalescing per app/environment', () => {
  it('a burst of deploys to one environment leaves only the newest waiting, and says which were coalesced', async () => {
    const told: Array<{ job: string; by: string }> = [];
    const queue = await open({ onCoalesced: ({ job, by }) => told.push({ job: job.tag, by }) });
    const sent = [];
    for (let n = 1; n <= 20; n++) sent.push(await queue.send(merge(n), sendOptionsOf(merge(n))));
    const other = makeJob({ app: 'web', environment: 'prod', n: 1 });
    await queue.send(other, sendOptionsOf(other));
    assert.deepEqual(
      queue
        .list()
        .map((e) => `${e.job.app}:${e.job.tag}`)
        .sort(),
      ['api:v20', 'web:v1'],
      'api/prod: only v20; web/prod untouched',
    );
    assert.equal(told.length, 19);
    assert.deepEqual(told.at(-1), { job: 'v19', by: sent[19]!.messageId });
    const got = await queue.receive(10, 60);
    assert.deepEqual(got.map((m) => m.job.tag).sort(), ['v1', 'v20']);
    await queue.close();
  });

  it('a deploy older than the one in flight is outdated on arrival; a newer one makes the running job stop waiting', async () => {
    const told: string[] = [];
    const queue = await open({ onCoalesced: ({ job }) => told.push(job.tag) });
    await queue.send(merge(5), sendOptionsOf(merge(5)));
    const [running] = await queue.receive(1, 600);
    assert.equal(running?.job.tag, 'v5');
    assert.equal(queue.newerWaiting!(running!), false);
    await queue.send(merge(3), sendOptionsOf(merge(3))); // a late webhook of an older commit
    assert.deepEqual(told, ['v3'], 'outdated on arrival, reported');
    assert.equal(queue.newerWaiting!(running!), false);
    await queue.send(merge(7), sendOptionsOf(merge(7)));
    assert.equal(queue.newerWaiting!(running!), true, 'v5 need not wait for its image: v7 waits behind it');
    assert.deepEqual(
      queue.list().map((e) => `${e.job.tag}:${e.state}`),
      ['v5:in-flight', 'v7:pending'],
    );
    await queue.close();
  });

  it('a converge is never replaced by a webhook deploy, nor the reverse', async () => {
    const queue = await open();
    const converge = merge(2, { reason: 'converge', id: 'job-converge-0002' });
    await queue.send(converge, { group: 'api/prod', dedupId: 'api/prod/converge-2' });
    await queue.send(merge(4), sendOptionsOf(merge(4)));
    assert.deepEqual(
      queue.list().map((e) => e.job.reason),
      ['converge', 'merge'],
    );
    await queue.close();
  });
});

describe('embedded queue: depth cap per app/environment', () => {
  it('a full group refuses the next job with QueueFull (503) naming the app/environment; other groups still take jobs', async () => {
    const queue = await open({ coalesce: false, maxPerGroup: 3 });
    for (let n = 1; n <= 3; n++) await queue.send(merge(n), sendOptionsOf(merge(n)));
    await assert.rejects(
      enqueueJobs(queue, [merge(4)]),
      (err) =>
        err instanceof QueueFull &&
        err.status === 503 &&
        /holds 3 jobs for api\/prod \(at most 3 per app\/environment\); retry later/.test(err.message),
    );
    assert.equal(queue.list().length, 3, 'nothing lost, nothing added');
    const web = makeJob({ app: 'web', environment: 'prod', n: 1 });
    assert.equal((await enqueueJobs(queue, [web]))[0]?.app, 'web');
    // Once a job is done, the group takes one again.
    const [head] = await queue.receive(1, 60);
    await queue.ack(head!);
    await enqueueJobs(queue, [merge(4)]);
    await queue.close();
  });

  it('with coalescing on, a spam of deploys never reaches the cap: each replaces the last', async () => {
    const queue = await open({ maxPerGroup: 2 });
    for (let n = 1; n <= 200; n++) await queue.send(merge(n), sendOptionsOf(merge(n)));
    assert.deepEqual(
      queue.list().map((e) => e.job.tag),
      ['v200'],
    );
    await queue.close();
  });
});

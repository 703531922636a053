/**
 * Issue 12, item 2: a redelivery after the queue's 5-minute dedup window (GitLab "Resend", GitHub
 * "Redeliver") queues nothing, across a restart too; the log of deliveries is bounded by age and count.
 * The real receiver over HTTP, the real durable queue with a dedup window shortened to 50 ms (so "after the
 * window" needs no 5-minute wait), the log in a real file.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createLocalQueue } from '../../lib/queue/local.js';
import { DeliveryLog } from '../../lib/receiver/delivery-log.js';
import { counting, gitlabHeaders, payload, startTestReceiver } from '../fixtures/receiver.js';
import { testQueueKey } from '../fixtures/jobs.js';

const WINDOW_MS = 50;
const KEY = 'b7f4c1d2-0a9e-4c3b-8e2f-6d5a4b3c2e1f';

describe('receiver: deliveries remembered past the queue dedup window', () => {
  it('a resend of a merge after the dedup window queues nothing, also after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-deliveries-'));
    const file = join(dir, 'deliveries.log');
    const queue = counting(
      await createLocalQueue({ dir: join(dir, 'queue'), dedupWindowMs: WINDOW_MS, key: testQueueKey() }),
    );
    const body = JSON.stringify(payload('gitlab-merge-request'));
    const headers = gitlabHeaders('Merge Request Hook', undefined, { 'idempotency-key': KEY });
    let r = await startTestReceiver({ queue, deliveries: new DeliveryLog(file) });
    try {
      const first = await r.post('/hooks/gitlab', body, headers);
      assert.equal(first.status, 202);
      assert.equal(first.body.queued[0].duplicate, undefined);
      await sleep(WINDOW_MS * 3); // past the queue's own window: only the delivery log can tell
      const resend = await r.post('/hooks/gitlab', body, headers);
      assert.equal(resend.status, 202);
      assert.equal(resend.body.queued[0].duplicate, true, JSON.stringify(resend.body));
      assert.equal(queue.accepted.length, 1, 'the resend was not queued');
    } finally {
      await r.close();
    }
    // A restart reads the log back from the data directory.
    r = await startTestReceiver({ queue, deliveries: new DeliveryLog(file) });
    try {
      await sleep(WINDOW_MS * 3);
      // Byte-identical, even under a new header id (a sender without Idempotency-Key).
      const again = await r.post(
        '/hooks/gitlab',
        body,
        gitlabHeaders('Merge Request Hook', undefined, { 'idempotency-key': 'new-key-0001' }),
      );
      assert.equal(again.body.queued[0].duplicate, true);
      assert.equal(queue.accepted.length, 1);
      // A different merge is a new delivery.
      const other = payload('gitlab-merge-request');
      other.object_attributes.merge_commit_sha = 'c'.repeat(40);
      const fresh = await r.post(
        '/hooks/gitlab',
        JSON.stringify(other),
        gitlabHeaders('Merge Request Hook', undefined, { 'idempotency-key': 'other-key-0002' }),
      );
      assert.equal(fresh.body.queued[0].duplicate, undefined);
      assert.equal(queue.accepted.length, 2);
    } finally {
      await r.close();
      await queue.close();
    }
  });

  it('is bounded by age and by count, on disk too', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fjord-deliveries-')), 'deliveries.log');
    let now = Date.UTC(2026, 11, 1);
    const log = new DeliveryLog(file, { maxAgeMs: 7 * 86_400_000, maxEntries: 3, now: () => now });
    log.record(['gitlab:a']);
    now += 6 * 86_400_000;
    assert.equal(log.seen(['gitlab:a']), true, 'six days later it is still remembered');
    now += 2 * 86_400_000;
    assert.equal(log.seen(['gitlab:a']), false, 'eight days later it is forgotten');
    for (const k of ['b', 'c', 'd', 'e']) log.record([`gitlab:${k}`]);
    assert.equal(log.size, 3);
    assert.equal(log.seen(['gitlab:b']), false, 'the oldest goes first');
    assert.equal(log.seen(['gitlab:e']), true);
    for (let i = 0; i < 10; i++) log.record([`gitlab:x${i}`]);
    assert.ok(readFileSync(file, 'utf8').trim().split('\n').length <= 2 * 3, 'the file is compacted');
    const reopened = new DeliveryLog(file, { maxEntries: 3, now: () => now });
    assert.deepEqual(
      ['x7', 'x8', 'x9'].map((k) => reopened.seen([`gitlab:${k}`])),
      [true, true, true],
    );
    assert.equal(reopened.size, 3);
    // A line torn by kill -9 mid-append is skipped; a key outside the grammar is never written.
    appendFileSync(file, `${now} gitlab:tor`);
    log.record(['bad key\nwith newline']);
    const afterTear = new DeliveryLog(file, { maxEntries: 3, now: () => now });
    assert.equal(afterTear.size, 3);
    assert.equal(afterTear.seen(['gitlab:x9']), true);
  });

  it('appends every delivery through one descriptor kept open, reopened on the file a compaction wrote', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fjord-deliveries-')), 'deliveries.log');
    // Descriptors of this process open on `file` (Linux /proc): one kept open, none opened per delivery.
    const open = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false; // closed between the listing and the read
        }
      });
    const log = new DeliveryLog(file, { maxEntries: 3 });
    log.record(['gitlab:a']);
    const [fd] = open();
    assert.ok(fd !== undefined, 'no descriptor kept open on the log after a delivery');
    for (const k of ['b', 'c']) log.record([`gitlab:${k}`]);
    assert.deepEqual(open(), [fd], 'a delivery opened the log again');
    // Past 2 × maxEntries lines the file is rewritten: later deliveries land in the new file, not the replaced one.
    for (const k of ['d', 'e', 'f', 'g']) log.record([`gitlab:${k}`]);
    log.record(['gitlab:after-compaction']);
    assert.equal(open().length, 1);
    assert.equal(new DeliveryLog(file, { maxEntries: 3 }).seen(['gitlab:after-compaction']), true);
  });
});

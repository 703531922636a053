import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../lib/cli/main.js';
import { QueueUnavailable } from '../../lib/errors.js';
import { InvalidSendOptions, QueueCorrupt, QueueLocked } from '../../lib/queue/errors.js';
import { createLocalQueue, type LocalQueueOptions } from '../../lib/queue/local.js';
import { StaleReceipt } from '../../lib/queue/queue.js';
import { readLocalQueue } from '../../lib/queue/read-local.js';
import { parseJournal } from '../../lib/queue/records.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { queueContract } from './contract.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'fjord-queue-'));

queueContract('local', async () => {
  let offset = 0;
  const dedupWindowMs = 300_000;
  const queue = await createLocalQueue({
    key: testQueueKey(),
    dir: tempDir(),
    maxAttempts: 3,
    dedupWindowMs,
    now: () => Date.now() + offset,
  });
  return {
    queue,
    maxAttempts: 3,
    listDead: async () => queue.listDead(),
    passDedupWindow: async () => {
      offset += dedupWindowMs + 1;
    },
    close: () => queue.close(),
  };
});

/** A queue on a hand-driven clock. */
function clocked(dir: string, options: Partial<LocalQueueOptions> = {}) {
  const clock = { t: Date.UTC(2025, 5, 1) };
  const open = () => createLocalQueue({ key: testQueueKey(), dir, maxAttempts: 2, now: () => clock.t, ...options });
  return { clock, open };
}

const job = (app: string, n: number) => makeJob({ app, n });
const summary = (entries: { group: string; state: string; attempts: number; job: { tag: string } }[]) =>
  entries.map((e) => `${e.group} ${e.job.tag} ${e.state} ${e.attempts}`);

/** Builds a queue with one of everything: in flight, pending, delayed, dead, and a dedup entry of an acked job. */
async function populate(q: Awaited<ReturnType<typeof createLocalQueue>>, clock: { t: number }) {
  for (const j of [job('a', 1), job('a', 2), job('b', 1), job('c', 1), job('d', 1), job('e', 1)])
    await q.send(j, sendOptionsOf(j));
  const byApp = async () => Object.fromEntries((await q.receive(10, 30)).map((m) => [m.job.app, m]));
  const first = await byApp(); // a1 b1 c1 d1 e1, attempts 1
  await q.ack(first.d!);
  await q.retry(first.c!, 0);
  await q.retry(first.e!, 600); // delayed 10 minutes
  await q.retry((await byApp()).c!, 0); // attempts 2 = maxAttempts → dead
  clock.t += 1000;
  return { inFlight: first.a!, acked: first.d! };
}

const expectedList = ['a/prod v1 in-flight 1', 'a/prod v2 pending 0', 'b/prod v1 in-flight 1', 'e/prod v1 delayed 1'];

describe('local queue on disk', () => {
  it('restores pending, in-flight, delayed, dead and dedup state on reopen', async () => {
    const dir = tempDir();
    const { clock, open } = clocked(dir);
    const q1 = await open();
    const { inFlight, acked } = await populate(q1, clock);
    assert.deepEqual(summary(q1.list()).sort(), expectedList);
    await q1.close();

    const q2 = await open();
    assert.deepEqual(summary(q2.list()).sort(), expectedList);
    assert.deepEqual(
      q2.listDead().map((d) => `${d.group} ${d.job.tag} ${d.attempts}`),
      ['c/prod v1 2'],
    );
    assert.deepEqual(await q2.receive(10, 30), [], 'a and b still in flight, e delayed');
    // The acked job's dedupId is still remembered within its window.
    assert.deepEqual(await q2.send(job('d', 1), sendOptionsOf(job('d', 1))), {
      messageId: acked.messageId,
      duplicate: true,
    });
    // Receipts survive a restart of the queue; visibility continues where it was.
    await q2.extend(inFlight, 5);
    clock.t += 31_000;
    const redelivered = await q2.receive(10, 30);
    assert.deepEqual(redelivered.map((m) => `${m.job.app}${m.job.tag} ${m.attempts}`).sort(), ['av1 2', 'bv1 2']);
    await assert.rejects(q2.ack(inFlight), StaleReceipt);
    clock.t += 300_000; // the dedup window of d1 has passed
    assert.equal((await q2.send(job('d', 1), sendOptionsOf(job('d', 1)))).duplicate, false);
    await q2.close();
  });

  it('compaction keeps the state and shrinks the journal', async () => {
    const dir = tempDir();
    const { clock, open } = clocked(dir, { compactBytes: 64 * 1024 });
    const q = await open();
    await populate(q, clock);
    // Churn through a group: the journal grows past compactBytes and compacts by itself.
    for (let n = 1; n <= 300; n++) {
      const j = job('churn', n);
      await q.send(j, sendOptionsOf(j));
      const got = await q.receive(10, 30);
      const churn = got.find((m) => m.job.app === 'churn')!;
      for (const m of got) if (m !== churn) await q.retry(m, 0);
      await q.ack(churn);
    }
    const journal = join(dir, 'journal.log');
    assert.ok(
      statSync(journal).size < 64 * 1024 + 20_000,
      `journal of ${statSync(journal).size} bytes was not compacted`,
    );
    await q.compact();
    const records = parseJournal(readFileSync(journal), journal).records;
    assert.equal(records[0]?.op, 'head');
    // After a compaction: one record per message (live or dead), plus dedup records of the 300 acked.
    assert.equal(records.filter((r) => r.op === 'put').length, 5);
    assert.equal(records.filter((r) => r.op === 'dedup').length, 301);
    const before = summary(q.list()).sort();
    await q.close();
    const again = await open();
    assert.deepEqual(summary(again.list()).sort(), before);
    assert.equal(again.listDead().length, 1);
    assert.equal((await again.send(job('churn', 7), sendOptionsOf(job('churn', 7)))).duplicate, true);
    await again.close();
  });

  it('ignores a torn last record and drops it from the file; refuses damage before the end', async () => {
    const dir = tempDir();
    const { clock, open } = clocked(dir);
    const q1 = await open();
    await populate(q1, clock);
    await q1.close();
    const journal = join(dir, 'journal.log');
    const good = readFileSync(journal);
    appendFileSync(
      journal,
      JSON.stringify({ op: 'send', id: 'x', group: 'z/prod', dedup: 'z', job: job('z', 1), at: 1 }).slice(0, 60),
    );
    const q2 = await open();
    assert.deepEqual(summary(q2.list()).sort(), expectedList);
    await q2.close();
    assert.equal(parseJournal(readFileSync(journal), journal).torn, false, 'the torn tail is gone from the file');

    const lines = good.toString().split('\n');
    lines.splice(2, 0, '{"op":"ack","id":'); // damage in the middle, with good records after it
    writeFileSync(journal, lines.join('\n'));
    await assert.rejects(open(), (err) => err instanceof QueueCorrupt && /journal\.log:3:/.test(err.message));
    await assert.rejects(readLocalQueue(dir), QueueCorrupt);
  });

  it('tells onDead of every dead letter: out of attempts on retry, and when a receiver died on the last attempt', async () => {
    const dead: string[] = [];
    const { clock, open } = clocked(tempDir(), { onDead: (d) => dead.push(`${d.job.app} ${d.attempts}`) });
    const q = await open();
    for (const j of [job('a', 1), job('b', 1)]) await q.send(j, sendOptionsOf(j));
    const a = async () => (await q.receive(10, 30)).find((m) => m.job.app === 'a')!;
    await q.retry(await a(), 0); // a, attempt 1 of 2 (b received too, attempt 1)
    await q.retry(await a(), 0); // a, attempt 2: dead
    assert.deepEqual(dead, ['a 2']);
    // b's receiver dies (its visibility runs out) on both attempts: the receive after that dead-letters it.
    clock.t += 31_000;
    assert.deepEqual(
      (await q.receive(10, 30)).map((m) => `${m.job.app} ${m.attempts}`),
      ['b 2'],
    );
    clock.t += 31_000;
    assert.deepEqual(await q.receive(10, 30), []);
    assert.deepEqual(dead, ['a 2', 'b 2']);
    assert.deepEqual(
      q
        .listDead()
        .map((d) => d.job.app)
        .sort(),
      ['a', 'b'],
    );
    await q.close();
  });

  it('refuses a second writer, takes over a lock left by a dead process', async () => {
    const dir = tempDir();
    const q1 = await createLocalQueue({ key: testQueueKey(), dir });
    await assert.rejects(createLocalQueue({ key: testQueueKey(), dir }), QueueLocked);
    const j = job('a', 1);
    await q1.send(j, sendOptionsOf(j));
    // A reader needs no lock.
    assert.equal((await readLocalQueue(dir)).list().length, 1);
    await q1.close();
    await assert.rejects(q1.send(j, sendOptionsOf(j)), QueueUnavailable);

    const livePid = process.ppid; // the test runner: alive for as long as this test runs
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: livePid, start: null, nonce: 'someone-else' }));
    await assert.rejects(
      createLocalQueue({ key: testQueueKey(), dir }),
      (err) => err instanceof QueueLocked && err.pid === livePid,
    );
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: deadPid, start: null, nonce: 'gone' }));
    const q2 = await createLocalQueue({ key: testQueueKey(), dir });
    assert.equal(q2.list().length, 1);
    assert.equal(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')).pid, process.pid);
    await q2.close();
    // A live pid that started at another time is a reused pid: the owner is gone.
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: livePid, start: '1', nonce: 'reused' }));
    await (await createLocalQueue({ key: testQueueKey(), dir })).close();
    // A lock left by an earlier process with this very pid (a restarted container's pid 1).
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: process.pid, start: null, nonce: 'earlier-life' }));
    await (await createLocalQueue({ key: testQueueKey(), dir })).close();
    assert.deepEqual(readdirSync(dir), ['journal.log']);
  });

  it('rejects groups and dedupIds that SQS FIFO would reject', async () => {
    const q = await createLocalQueue({ key: testQueueKey(), dir: tempDir() });
    await assert.rejects(q.send(job('a', 1), { group: 'a b', dedupId: 'x' }), InvalidSendOptions);
    await assert.rejects(q.send(job('a', 1), { group: 'a', dedupId: 'x'.repeat(129) }), InvalidSendOptions);
    assert.equal(q.list().length, 0);
    await q.close();
  });

  it('answers concurrent sends together and keeps every one', async () => {
    const dir = tempDir();
    const q = await createLocalQueue({ key: testQueueKey(), dir });
    const jobs = Array.from({ length: 500 }, (_, i) => job(`g${i % 7}`, i + 1));
    const results = await Promise.all(jobs.map((j) => q.send(j, sendOptionsOf(j))));
    assert.equal(new Set(results.map((r) => r.messageId)).size, 500);
    const { records, writes } = q.stats();
    assert.equal(records, 500);
    assert.ok(writes <= 5, `500 concurrent sends took ${writes} writes: no group commit`);
    await q.close();
    const view = await readLocalQueue(dir);
    assert.deepEqual(
      view
        .list()
        .map((e) => e.messageId)
        .sort(),
      results.map((r) => r.messageId).sort(),
    );
    // Per group, the send order is the delivery order.
    for (let g = 0; g < 7; g++) {
      const tags = view
        .list()
        .filter((e) => e.group === `g${g}/prod`)
        .map((e) => Number(e.job.tag.slice(1)));
      assert.deepEqual(
        tags,
        [...tags].sort((x, y) => x - y),
      );
    }
  });
});

describe('fjord queue ls', () => {
  it('prints jobs and dead letters as JSON lines while the queue is open', async () => {
    const data = tempDir();
    const { clock, open } = clocked(join(data, 'queue'));
    const q = await open();
    await populate(q, clock);
    const run = async (args: string[]) => {
      let out = '';
      const code = await main(args, {
        stdout: (s) => {
          out += s;
        },
        stderr: () => {},
        env: { FJORD_DATA_DIR: data },
        cwd: '/',
      });
      return {
        code,
        lines: out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      };
    };
    const ls = await run(['queue', 'ls']);
    assert.equal(ls.code, 0);
    assert.equal(ls.lines.length, 4);
    assert.deepEqual(Object.keys(ls.lines[0]).slice(0, 5), ['messageId', 'group', 'state', 'attempts', 'job']);
    assert.deepEqual(ls.lines.map((l) => `${l.group} ${l.job.tag}`).sort(), [
      'a/prod v1',
      'a/prod v2',
      'b/prod v1',
      'e/prod v1',
    ]);
    const dead = await run(['queue', 'ls', '--dead']);
    assert.deepEqual(
      dead.lines.map((l) => `${l.group} ${l.state} ${l.attempts} ${l.job.id}`),
      ['c/prod dead 2 job-c-prod-1'],
    );
    await q.close();
  });
});

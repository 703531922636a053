/**
 * The embedded queue's write path at the receiver's floor (issue 15, item 1): each batch is one
 * synchronous-data write (the journal is opened O_DSYNC, so a resolved send is on disk without a second
 * fdatasync round trip), and a send costs the same however many jobs its group holds.
 */
import assert from 'node:assert/strict';
import { constants, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLocalQueue, type LocalQueue } from '../../lib/queue/local.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'fjord-journal-'));

/** The open-file flags of this process's descriptor on `file` (Linux /proc), or undefined when none is open. */
function openFlags(file: string): number | undefined {
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed between the listing and the read
    }
    if (target !== file) continue;
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (flags) return parseInt(flags[1]!, 8);
  }
  return undefined;
}

async function sendMany(q: LocalQueue, app: string, from: number, count: number): Promise<void> {
  // 50 at a time, as concurrent webhooks would: the group commit batches them.
  for (let i = from; i < from + count; i += 50) {
    const jobs = Array.from({ length: Math.min(50, from + count - i) }, (_, k) => makeJob({ app, n: i + k }));
    await Promise.all(jobs.map((j) => q.send(j, sendOptionsOf(j))));
  }
}

describe('queue journal writes', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  it('a durable journal is opened O_DSYNC after open and after a compaction; fsync off is not', async () => {
    const dir = tempDir();
    const file = join(dir, 'journal.log');
    const q = await createLocalQueue({ key: testQueueKey(), dir });
    await sendMany(q, 'a', 1, 10);
    assert.ok(
      (openFlags(file)! & constants.O_DSYNC) === constants.O_DSYNC,
      `journal flags 0${openFlags(file)?.toString(8)}: not O_DSYNC`,
    );
    await q.compact();
    await sendMany(q, 'a', 11, 10);
    assert.ok(
      (openFlags(file)! & constants.O_DSYNC) === constants.O_DSYNC,
      'after compaction the journal is no longer O_DSYNC',
    );
    await q.close();

    const fastDir = tempDir();
    const fast = await createLocalQueue({ key: testQueueKey(), dir: fastDir, fsync: false });
    await sendMany(fast, 'a', 1, 10);
    const flags = openFlags(join(fastDir, 'journal.log'));
    assert.ok(
      flags !== undefined && (flags & constants.O_DSYNC) === 0,
      `fsync off, journal flags 0${flags?.toString(8)}`,
    );
    await fast.close();
  });

  it('a send into a group of 30,000 waiting jobs costs about what a send into an empty group costs', async () => {
    const q = await createLocalQueue({ key: testQueueKey(), dir: tempDir(), fsync: false });
    await sendMany(q, 'big', 1, 30_000);
    // Fastest of three rounds each, alternating: load on the machine slows a round, never speeds it up.
    const small: number[] = [];
    const big: number[] = [];
    for (let round = 0; round < 3; round++) {
      let t = performance.now();
      await sendMany(q, `small${round}`, 1, 1000);
      small.push(performance.now() - t);
      t = performance.now();
      await sendMany(q, 'big', 40_000 + round * 1000, 1000);
      big.push(performance.now() - t);
    }
    const [s, b] = [Math.min(...small), Math.min(...big)];
    // Copying the group on every send made this ~20× slower; 4× leaves room for noise.
    assert.ok(
      b < 4 * s + 20,
      `1000 sends: ${b.toFixed(0)} ms into the long group, ${s.toFixed(0)} ms into an empty one`,
    );
    assert.equal(q.list().filter((e) => e.group === 'big/prod').length, 33_000);
    await q.close();
  });
});

describe('queue send serialization', () => {
  it('a send serializes its job once: the signature and the journal line share the same bytes', async () => {
    const dir = tempDir();
    const q = await createLocalQueue({ key: testQueueKey(), dir, fsync: false });
    const base = makeJob({ n: 7 });
    const job = makeJob({ n: 7, source: { ...base.source, author: 'Zoë "ada" \\ Łukasz 🚀' } });
    const stringify = JSON.stringify;
    let objects = 0;
    JSON.stringify = ((value: unknown) => {
      if (typeof value === 'object' && value !== null) objects++;
      return stringify(value);
    }) as typeof JSON.stringify;
    try {
      await q.send(job, sendOptionsOf(job));
    } finally {
      JSON.stringify = stringify;
    }
    assert.equal(objects, 1, `JSON.stringify ran on ${objects} objects for one send`);
    await q.close();
    // The line is the one JSON.stringify would have written, and a reopened queue delivers the job intact.
    const lines = readFileSync(join(dir, 'journal.log'), 'utf8').trim().split('\n');
    const sent = lines.find((l) => l.includes('"op":"send"'))!;
    assert.equal(sent, JSON.stringify(JSON.parse(sent)));
    const reopened = await createLocalQueue({ key: testQueueKey(), dir, fsync: false });
    const [got] = await reopened.receive(1, 30);
    assert.deepEqual(got?.job, job);
    await reopened.close();
  });
});

/**
 * kill -9 at random moments (seeded: FJORD_TEST_SEED) while a child process sends, receives, acks and
 * compacts; after each kill the queue must open (the dead child's lock taken over, a torn tail ignored)
 * and hold every send the child was answered for, and no message whose ack it was answered for.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { createLocalQueue } from '../../lib/queue/local.js';
import { readLocalQueue } from '../../lib/queue/read-local.js';
import { parseJournal } from '../../lib/queue/records.js';
import { testQueueKey } from '../fixtures/jobs.js';

const SEED = Number(process.env.FJORD_TEST_SEED ?? 20250601);
const childScript = fileURLToPath(new URL('../fixtures/queue-crash-child.ts', import.meta.url));
const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) child.kill('SIGKILL');
});

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the child, kills it `killAfterMs` after it is ready (or after spawn), returns its complete lines. */
async function runAndKill(
  dir: string,
  mode: 'send' | 'churn' | 'compact',
  round: number,
  killAfterMs: number,
  fromSpawn: boolean,
) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', childScript, dir, mode, String(round), String(SEED + round)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  while (!fromSpawn && !out.startsWith('ready\n')) {
    if (child.exitCode !== null || Date.now() - started > 20_000) assert.fail(`child did not start: ${err}`);
    await sleep(5);
  }
  await sleep(killAfterMs);
  assert.equal(child.exitCode, null, `child exited by itself: ${err}`);
  child.kill('SIGKILL');
  await exited; // reaped: its pid is gone, so its lock is stale
  live.delete(child);
  // Only whole lines count: a line cut by the kill was not completely printed.
  return out
    .slice(0, out.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean);
}

describe('local queue under kill -9', () => {
  it(`loses no answered send and revives no answered ack (seed ${SEED})`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-crash-'));
    const random = prng(SEED);
    const mustExist = new Set<string>();
    const mustBeGone = new Set<string>();
    let sends = 0;
    let acks = 0;
    let midCompaction = 0; // kills that left a half-written snapshot behind
    const modes = ['send', 'send', 'churn', 'compact', 'churn', 'send', 'compact', 'churn', 'compact'] as const;
    // Every mode once, then more rounds (the same modes again) until enough sends and acks were answered:
    // a loaded box answers fewer before each kill, so the amount of work, not the round count, is fixed.
    const enough = () => sends > 100 && acks > 5;
    for (let round = 0; round < modes.length || (!enough() && round < 10 * modes.length); round++) {
      const mode = modes[round % modes.length]!;
      // Every third round is killed at a time counted from spawn: often while it is still opening
      // (replaying, writing its first snapshot), sometimes just after.
      const fromSpawn = round % 3 === 1;
      const killAfter = Math.floor(fromSpawn ? 200 + random() * 800 : 20 + random() * 400);
      const where = `round ${round} (${mode}, kill ${killAfter} ms after ${fromSpawn ? 'spawn' : 'ready'}, seed ${SEED})`;
      for (const line of await runAndKill(dir, mode, round, killAfter, fromSpawn)) {
        const [what, id] = line.split(' ') as [string, string];
        if (what === 'sent') {
          mustExist.add(id);
          sends++;
        } else if (what === 'acking')
          mustExist.delete(id); // answered or not: either outcome is right
        else if (what === 'acked') {
          mustBeGone.add(id);
          acks++;
        }
      }

      if (existsSync(join(dir, 'journal.log.tmp'))) midCompaction++;
      // A reader copes with the file exactly as the kill left it.
      const view = await readLocalQueue(dir);
      const queue = await createLocalQueue({ key: testQueueKey(), dir, maxAttempts: 3 });
      const present = new Set([...queue.list(), ...queue.listDead()].map((e) => e.messageId));
      assert.deepEqual(
        new Set([...view.list(), ...view.listDead()].map((e) => e.messageId)),
        present,
        `${where}: reader and writer disagree`,
      );
      const lost = [...mustExist].filter((id) => !present.has(id));
      assert.deepEqual(lost, [], `${where}: answered sends lost`);
      const revived = [...mustBeGone].filter((id) => present.has(id));
      assert.deepEqual(revived, [], `${where}: answered acks undone`);
      // Per group, messages are still in send order.
      const byGroup = new Map<string, number[]>();
      for (const e of queue.list()) byGroup.set(e.group, [...(byGroup.get(e.group) ?? []), Number(e.job.tag.slice(1))]);
      for (const [group, ns] of byGroup)
        assert.deepEqual(
          ns,
          [...ns].sort((a, b) => a - b),
          `${where}: ${group} out of order`,
        );
      await queue.close();
      const journal = join(dir, 'journal.log');
      assert.equal(parseJournal(readFileSync(journal), journal).torn, false);
      t.diagnostic(
        `${where}: ${sends} sends, ${acks} acks answered so far; ${present.size} messages kept; ${midCompaction} kills mid-compaction`,
      );
    }
    assert.ok(sends > 100, `only ${sends} answered sends over ${10 * modes.length} rounds`);
    assert.ok(acks > 5, `only ${acks} answered acks over all rounds`);
    assert.deepEqual(readdirSync(dir).sort(), ['journal.log'], 'no lock or temp files left after a clean close');
  });
});

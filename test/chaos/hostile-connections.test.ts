/**
 * Issue 12, item 6 — unauthenticated requests cost nothing. The real Node receiver in its own process
 * (fixtures/receiver-child.ts), real sockets: a wrong token is answered before a byte of the body is read
 * (a client that sends its headers and stalls gets 401 at once, a client streaming 24 MiB gets it after
 * little of it); signed bodies, which must be read to be judged, hold at most `maxUnauthenticatedReads`
 * slots (503 past it, a token webhook still goes through); past `maxConnections` new connections are
 * closed at once, and idle ones after `headersTimeoutMs`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  GITHUB_SECRETS,
  GITLAB_TOKENS,
  SIGNING_KEYS,
  githubHeaders,
  gitlabHeaders,
  payload,
  send,
} from '../fixtures/receiver.js';
import { captureText, declareSecrets } from './figures.js';
import { startChild } from './receiver-process.js';

declareSecrets(...GITLAB_TOKENS, ...SIGNING_KEYS, ...GITHUB_SECRETS);
const MiB = 1024 * 1024;
const WRONG = 'wrong-token-3f9a1c7e5b2d';

/** An open socket that has sent `head` and holds back the body it announced; `answer` is what came back. */
interface Stalled {
  socket: Socket;
  /** Resolves with the status line's code (0: closed without an answer) and when it came. */
  answer: Promise<{ status: number; at: number; headers: string }>;
  opened: number;
}

function stalled(port: number, path: string, headers: Record<string, string>, announced = 1_000_000): Promise<Stalled> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done: (v: { status: number; at: number; headers: string }) => void;
    const answer = new Promise<{ status: number; at: number; headers: string }>((r) => (done = r));
    const finish = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      done({ status: m ? Number(m[1]) : 0, at: performance.now(), headers: text.slice(0, text.indexOf('\r\n\r\n')) });
    };
    socket.on('data', (d) => {
      chunks.push(d);
      if (Buffer.concat(chunks).includes('\r\n\r\n')) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => {});
    socket.once('connect', () => {
      const lines = [
        `POST ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        ...Object.entries({ ...headers, 'content-length': String(announced) }).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      resolve({ socket, answer, opened: performance.now() });
    });
    socket.once('error', reject);
  });
}

/** Streams `count` paced chunks after the headers; resolves with the status and the body bytes written before it arrived. */
function stream(
  port: number,
  headers: Record<string, string>,
  chunk: Buffer,
  count: number,
): Promise<{ status: number; written: number }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let written = 0;
    let seen = '';
    let answered: { status: number; written: number } | undefined;
    socket.on('error', () => {}); // EPIPE/ECONNRESET once the server has answered and closed
    socket.on('data', (d) => {
      seen += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(seen);
      if (m && !answered) {
        answered = { status: Number(m[1]), written };
        resolve(answered);
      }
    });
    socket.on('close', () => resolve(answered ?? { status: 0, written }));
    socket.once('connect', async () => {
      const lines = [
        'POST /hooks/gitlab HTTP/1.1',
        'Host: 127.0.0.1',
        ...Object.entries({ ...headers, 'content-length': String(count * chunk.length) }).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      for (let i = 0; i < count && !answered && !socket.destroyed; i++) {
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
        written += chunk.length;
        await new Promise((r) => setTimeout(r, 1));
      }
      if (answered) socket.destroy();
    });
  });
}

let n = 0;
const merge = () => {
  const mr = payload('gitlab-merge-request');
  mr.object_attributes.merge_commit_sha = (++n).toString(16).padStart(40, 'b');
  return JSON.stringify(mr);
};

describe('chaos: hostile connections', () => {
  const dirs: string[] = [];
  const children: Array<{ stop(): Promise<void> }> = [];
  const child = async (options: object = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-hostile-conn-'));
    dirs.push(dir);
    const c = await startChild(dir, options);
    children.push(c);
    return c;
  };
  after(async () => {
    for (const c of children) await c.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a wrong token is answered 401 before the body is read: 100 clients that send headers and stall all get it at once', async () => {
    const { port } = await child();
    const clients = await Promise.all(
      Array.from({ length: 100 }, () => stalled(port, '/hooks/gitlab', gitlabHeaders('Merge Request Hook', WRONG))),
    );
    const answers = await Promise.all(clients.map((c) => c.answer));
    const waited = answers.map((a, i) => a.at - clients[i]!.opened);
    captureText(JSON.stringify({ stalledWrongToken: { clients: clients.length, maxMs: Math.max(...waited) } }));
    // Not one body byte was sent: a receiver that reads first would still be waiting (then 408).
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [401]);
    for (const c of clients) c.socket.destroy();
    // The same stalled request with the right token is read first: no answer until its body comes.
    const right = await stalled(port, '/hooks/gitlab', gitlabHeaders('Merge Request Hook'), Buffer.byteLength(merge()));
    const early = await Promise.race([
      right.answer,
      new Promise<undefined>((r) => setTimeout(r, Math.max(200, 3 * Math.max(...waited)))),
    ]);
    assert.equal(early, undefined, 'a request with the right token waits for its body');
    right.socket.write(merge().padEnd(Buffer.byteLength(merge())));
    assert.equal((await right.answer).status, 202);
    right.socket.destroy();
  });

  it('24 MiB uploads with a wrong token are refused after little of the body', async () => {
    const { port } = await child();
    const chunk = Buffer.alloc(256 * 1024, 32);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => stream(port, gitlabHeaders('Merge Request Hook', WRONG), chunk, 96)),
    );
    captureText(JSON.stringify({ bigWrongToken: results.map((r) => r.written) }));
    for (const r of results) {
      assert.equal(r.status, 401);
      // The answer came while most of the 24 MiB was still unsent (paced writes; a reader would take it all).
      assert.ok(r.written < 12 * MiB, `${r.written} bytes written before the 401`);
    }
  });

  it('stalled signed uploads hold at most maxUnauthenticatedReads slots: the next is 503 at once, a token webhook still gets 202', async () => {
    const { port } = await child({ limits: { maxUnauthenticatedReads: 4 } });
    const body = merge();
    const signed = githubHeaders('pull_request', body);
    const holders = await Promise.all(Array.from({ length: 4 }, () => stalled(port, '/hooks/github', signed)));
    // Slots are taken when the server reads the request; wait until the fifth is refused (event-driven).
    let busy: { status: number; headers: string } | undefined;
    for (let i = 0; i < 200 && busy?.status !== 503; i++) {
      const probe = await stalled(port, '/hooks/github', signed);
      const a = await Promise.race([probe.answer, new Promise<undefined>((r) => setTimeout(r, 50))]);
      probe.socket.destroy();
      if (a) busy = a;
    }
    assert.equal(busy?.status, 503, 'the fifth unauthenticated read is refused');
    assert.match(busy!.headers, /retry-after: 5/i);
    // Plain-token webhooks need no slot.
    const res = await send(`http://127.0.0.1:${port}/hooks/gitlab`, [Buffer.from(body)], {
      ...gitlabHeaders('Merge Request Hook'),
      'content-length': String(Buffer.byteLength(body)),
    });
    assert.equal(res.status, 202);
    // The holders go away: their slots come back.
    for (const h of holders) h.socket.destroy();
    const pr = JSON.stringify({ zen: 'slots back' });
    let status = 0;
    for (let i = 0; i < 200 && status !== 200; i++) {
      status = (
        await send(`http://127.0.0.1:${port}/hooks/github`, [Buffer.from(pr)], {
          ...githubHeaders('ping', pr),
          'content-length': String(pr.length),
        })
      ).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(status, 200);
  });

  it('past maxConnections new connections are closed at once; idle ones are closed after headersTimeoutMs; webhooks get through afterwards', async () => {
    const headersTimeoutMs = 1_000;
    const { port } = await child({
      limits: { maxConnections: 32, headersTimeoutMs, requestTimeoutMs: 2 * headersTimeoutMs },
    });
    const open = (): Promise<{ socket: Socket; closed: Promise<{ at: number; bytes: number }> }> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let bytes = 0;
        socket.on('data', (d) => (bytes += d.length));
        socket.on('error', () => {});
        const closed = new Promise<{ at: number; bytes: number }>((r) =>
          socket.once('close', () => r({ at: performance.now(), bytes })),
        );
        socket.once('connect', () => resolve({ socket, closed }));
        socket.once('error', reject);
      });
    const idle = [];
    for (let i = 0; i < 32; i++) idle.push(await open());
    // Send a header line each, so each is surely accepted (and counted) by the server before the extras.
    for (const c of idle) c.socket.write('POST /hooks/gitlab HTTP/1.1\r\n');
    const extra = [];
    for (let i = 0; i < 10; i++) extra.push(await open());
    const extraClosed = await Promise.all(extra.map((c) => c.closed));
    const idleClosed = await Promise.all(idle.map((c) => c.closed));
    const firstIdle = Math.min(...idleClosed.map((c) => c.at));
    captureText(
      JSON.stringify({ maxConnections: { extraClosedMs: Math.max(...extraClosed.map((c) => c.at)) - firstIdle } }),
    );
    assert.ok(
      extraClosed.every((c) => c.at < firstIdle),
      'every connection past the cap was closed before the first idle one timed out',
    );
    // The idle ones did time out (a 408 or a bare close), and the server still serves.
    assert.ok(idleClosed.every((c) => c.at - firstIdle < 20 * headersTimeoutMs));
    const body = merge();
    const res = await send(`http://127.0.0.1:${port}/hooks/gitlab`, [Buffer.from(body)], {
      ...gitlabHeaders('Merge Request Hook'),
      'content-length': String(Buffer.byteLength(body)),
    });
    assert.equal(res.status, 202);
  });
});

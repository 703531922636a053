// A request refused before its body is read (413 on a declared length, 401/413 while it still uploads) must
// still get its answer. The server used to close the socket with request bytes unread: the kernel then
// resets the connection, and a client whose event loop is late (a loaded machine) writes into the reset,
// fails and never reads the answer waiting for it — the hostile suite's one "status 0".
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { gitlabHeaders, startTestReceiver, type TestReceiver } from '../fixtures/receiver.js';

/**
 * Sends the head and `first` bytes of a body declared `declared` bytes long, stops reading (as a busy
 * client does), waits `lateMs`, writes `rest` more bytes, then reads: the status line it got, or 0.
 */
function lateClient(
  url: string,
  {
    declared,
    first,
    rest,
    lateMs,
    extraHead = [],
  }: { declared: number; first: number; rest: number; lateMs: number; extraHead?: string[] },
): Promise<{ status: number; error?: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
      resolve({ status: m ? Number(m[1]) : 0, ...(error ? { error } : {}) });
    });
    const headers = Object.entries(gitlabHeaders('Merge Request Hook')).map(([k, v]) => `${k}: ${v}`);
    const head = [
      'POST /hooks/gitlab HTTP/1.1',
      'Host: fjord',
      'Connection: close',
      ...headers,
      `Content-Length: ${declared}`,
      ...extraHead,
      '',
      '',
    ].join('\r\n');
    socket.write(Buffer.concat([Buffer.from(head), Buffer.alloc(first, 0x20)]));
    socket.pause();
    void sleep(lateMs).then(async () => {
      if (!socket.destroyed) socket.write(Buffer.alloc(rest, 0x20));
      await sleep(50); // the write's outcome is known before the client reads again
      socket.resume();
    });
  });
}

describe('receiver: a refused upload still gets its answer', () => {
  let receiver: TestReceiver;
  before(async () => {
    // A 1 MiB limit (the hook routes' default is 25 MiB, GitLab's maximum): a 2 MiB declaration is refused up front.
    receiver = await startTestReceiver({ maxBodyBytes: 1024 * 1024 });
  });
  after(() => receiver?.close());

  it('a body declared over the limit: 413 reaches a client that keeps uploading and reads late', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await lateClient(receiver.url, {
        declared: 2 * 1024 * 1024,
        first: 256 * 1024,
        rest: 256 * 1024,
        lateMs: 200,
      });
      seen.push(`${r.status}${r.error ? ` ${r.error}` : ''}`);
    }
    assert.deepEqual(seen, Array(5).fill('413'));
  });

  it('a head the HTTP parser refuses (two different Content-Lengths): 400 reaches a client still uploading', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await lateClient(receiver.url, {
        declared: 1024 * 1024,
        first: 256 * 1024,
        rest: 512 * 1024,
        lateMs: 200,
        extraHead: ['Content-Length: 5'],
      });
      seen.push(`${r.status}${r.error ? ` ${r.error}` : ''}`);
    }
    assert.deepEqual(seen, Array(5).fill('400'));
  });
});

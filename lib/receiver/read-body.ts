/**
 * Reads a request body, refusing it (413) as soon as it passes `maxBytes`: at once when Content-Length says
 * so, else while the bytes arrive, so a chunked body without a length is never held past the limit.
 */
import type { IncomingMessage } from 'node:http';
import { MalformedPayload, PayloadTooLarge } from '../errors.js';

const tooLarge = (maxBytes: number) => new PayloadTooLarge(`request body is larger than ${maxBytes} bytes`);

/** Throws PayloadTooLarge when a declared Content-Length is over the limit. */
export function checkDeclaredLength(declared: string | undefined, maxBytes: number): void {
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

/** Node: straight from the IncomingMessage (no web stream in between, which costs ~2× here). */
export function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop keeping bytes; @hono/node-server drains (bounded) or closes the connection after our answer.
        done();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(new MalformedPayload('request body could not be read', { cause: err }));
    };
    const onClose = () => {
      done();
      reject(new MalformedPayload('connection closed before the request body ended'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** Other runtimes (Lambda, Workers, `app.request()`): the fetch Request's stream. */
export async function readStream(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (err) {
      throw new MalformedPayload('request body could not be read', { cause: err });
    }
    if (next.done) break;
    size += next.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks, size);
}

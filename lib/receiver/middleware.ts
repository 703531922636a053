/**
 * The receiver's middleware, as factories (hono `src/middleware/body-limit`): the size limit, which also
 * reads the body, and the content-type check. Authentication is in authenticate.ts. Order in app.ts:
 * size → authenticate → content type → handler (JSON.parse, zod, route, enqueue).
 */
import type { MiddlewareHandler } from 'hono';
import { UnsupportedMediaType } from '../errors.js';
import { header, type ReceiverEnv } from './env.js';
import { checkDeclaredLength, readIncoming, readStream } from './read-body.js';

/** Reads the body into `c.var.body`, refusing it with 413 past `maxBytes` (1 MiB by default). */
export function bodyLimit({ maxBytes = 1024 * 1024 }: { maxBytes?: number } = {}): MiddlewareHandler<ReceiverEnv> {
  return async (c, next) => {
    checkDeclaredLength(header(c, 'content-length'), maxBytes);
    const incoming = c.env?.incoming;
    c.set('body', incoming ? await readIncoming(incoming, maxBytes) : await readStream(c.req.raw.body, maxBytes));
    await next();
  };
}

/** 415 unless `application/json` (a `charset=utf-8` parameter is fine; other charsets are not). */
export function requireJson(): MiddlewareHandler<ReceiverEnv> {
  // Not async: nothing to wait for before handing on, and one promise fewer per request.
  return (c, next) => {
    const type = header(c, 'content-type') ?? '';
    const [media, ...params] = type.split(';').map((s) => s.trim().toLowerCase());
    const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
    if (media !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
      throw new UnsupportedMediaType(`content type must be application/json, not ${JSON.stringify(type.slice(0, 100))}`);
    }
    return next();
  };
}

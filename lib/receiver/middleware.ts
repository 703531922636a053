/**
 * The receiver's middleware, as factories (hono `src/middleware/body-limit`): the declared-size check,
 * the body reader the authentication middleware calls once a request may be read, and the content-type
 * check. Order in app.ts: declared size → authenticate (reads the body: after a token check, or within a
 * read slot for signatures) → content type → handler (JSON.parse, zod, route, enqueue).
 */
import type { MiddlewareHandler } from 'hono';
import { UnsupportedMediaType } from '../errors.js';
import { header, type ReceiverContext, type ReceiverEnv } from './env.js';
import { checkDeclaredLength, readIncoming, readStream } from './read-body.js';

/**
 * The largest hook body accepted by default: GitLab (gitlab-org/gitlab!38687) and GitHub ("payloads are
 * capped at 25 MB") send webhooks up to 25 MB, and refusing one would count towards disabling the hook.
 */
export const MAX_HOOK_BODY_BYTES = 25 * 1024 * 1024;

/** 413 at once when `Content-Length` announces more than `maxBytes`: before authentication, nothing read. */
export function declaredSize({
  maxBytes = MAX_HOOK_BODY_BYTES,
}: {
  maxBytes?: number;
} = {}): MiddlewareHandler<ReceiverEnv> {
  return (c, next) => {
    checkDeclaredLength(header(c, 'content-length'), maxBytes);
    return next();
  };
}

/** Reads the body into `c.var.body`, streamed and refused with 413 as soon as it passes `maxBytes`. */
export function bodyReader({
  maxBytes = MAX_HOOK_BODY_BYTES,
}: {
  maxBytes?: number;
} = {}): (c: ReceiverContext) => Promise<void> {
  return async (c) => {
    const incoming = c.env?.incoming;
    c.set('body', incoming ? await readIncoming(incoming, maxBytes) : await readStream(c.req.raw.body, maxBytes));
  };
}

/** 415 unless `application/json` (a `charset=utf-8` parameter is fine; other charsets are not). */
export function requireJson(): MiddlewareHandler<ReceiverEnv> {
  // Not async: nothing to wait for before handing on, and one promise fewer per request.
  return (c, next) => {
    const type = header(c, 'content-type') ?? '';
    const [media, ...params] = type.split(';').map((s) => s.trim().toLowerCase());
    const charset = params
      .find((p) => p.startsWith('charset='))
      ?.slice('charset='.length)
      .replace(/"/g, '');
    if (media !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
      throw new UnsupportedMediaType(
        `content type must be application/json, not ${JSON.stringify(type.slice(0, 100))}`,
      );
    }
    return next();
  };
}

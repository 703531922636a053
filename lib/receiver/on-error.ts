/**
 * The one error handler (hono `app.onError`): named errors answer with their status as JSON; a 500 is
 * only ever a bug in fjord, logged as such — nothing a client sends is answered with one.
 */
import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { FjordError, InvalidEvent } from '../errors.js';
import type { Logger } from '../log.js';
import type { ReceiverEnv } from './env.js';

export function errorHandler(logger: Logger): ErrorHandler<ReceiverEnv> {
  return (err, c) => {
    if (err instanceof FjordError && err.status !== 500) {
      const status = err.status as ContentfulStatusCode;
      // 401/422 may be an attack or a misconfigured hook; 503 means the queue is down.
      const level = status >= 500 ? 'error' : status === 401 || status === 422 ? 'warn' : 'info';
      logger[level]('webhook refused', { status, error: err.name, message: err.message });
      // The client may still be sending a body we will not read: do not keep the connection.
      if (status === 413) c.header('Connection', 'close');
      if (status === 503) c.header('Retry-After', '5');
      const path = err instanceof InvalidEvent ? { path: err.path } : {};
      return c.json({ error: err.name, message: err.message, ...path }, status);
    }
    if (err instanceof HTTPException) return err.getResponse();
    logger.error('receiver bug: unexpected error', { error: err });
    return c.json({ error: 'InternalError', message: 'internal error' }, 500);
  };
}

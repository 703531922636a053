/**
 * `GET /` of a receiver that runs next to a worker (embedded mode): the status page. With a token
 * (`statusPage.tokenEnv`) the request must carry it as `Authorization: Bearer …` or `?token=…`, compared
 * in constant time; otherwise 401. The token is never logged. Strict headers: no script may run (CSP),
 * and no link click sends the page's URL, which may hold `?token=`, as a referrer.
 */
import type { Handler } from 'hono';
import { createGitlabTokenVerifier } from '../events/verify-gitlab-token.js';
import type { Logger } from '../log.js';
import type { ReceiverEnv } from '../receiver/env.js';
import { header } from '../receiver/env.js';
import type { Secret } from '../secret.js';
import { renderStatusPage } from './render-page.js';
import type { StatusSource } from './view.js';

export const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

export interface StatusRouteOptions {
  source: StatusSource;
  /** Absent: the page is open (the embedded default, on a trusted network). */
  token?: Secret;
  logger: Logger;
}

export function statusRoute({ source, token, logger }: StatusRouteOptions): Handler<ReceiverEnv> {
  // The constant-time comparison of webhook tokens (SHA-256 both sides, then timingSafeEqual).
  const verify = token ? createGitlabTokenVerifier([token]) : undefined;
  return async (c) => {
    if (verify) {
      const bearer = /^Bearer[ \t]+(\S+)\s*$/i.exec(header(c, 'authorization') ?? '')?.[1];
      if (!verify(bearer ?? c.req.query('token'))) {
        logger.warn('status page refused: token missing or wrong', { path: '/' });
        return c.text(
          '401 Unauthorized: the status page needs its token (Authorization: Bearer …, or ?token=…)\n',
          401,
          { 'WWW-Authenticate': 'Bearer realm="fjord status"' },
        );
      }
    }
    return c.html(renderStatusPage(await source()), 200, PAGE_HEADERS);
  };
}

/**
 * `GET /` when the page may not be shown: fjord listens beyond loopback and no token is configured. It
 * says what to change, not what the page would show; nothing is checked or read.
 */
export function lockedRoute(logger: Logger): Handler<ReceiverEnv> {
  return (c) => {
    logger.debug('status page refused: no statusPage.tokenEnv while listening beyond loopback', { path: '/' });
    return c.text(
      '401 Unauthorized: the status page is off here. fjord listens beyond loopback and statusPage.tokenEnv is not set; set a token, or listen on 127.0.0.1 behind a reverse proxy.\n',
      401,
      { ...PAGE_HEADERS, 'WWW-Authenticate': 'Bearer realm="fjord status"' },
    );
  };
}

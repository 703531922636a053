/** The Hono environment of the receiver: Node bindings when served by @hono/node-server, the raw body once read. */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Credential } from './credential.js';

export interface ReceiverEnv {
  /** Present on Node (@hono/node-server); absent on other runtimes and in `app.request()`. */
  Bindings: Partial<HttpBindings> | undefined;
  Variables: {
    /** The request body, read within the size limit. */
    body: Buffer;
    /** The body decoded as UTF-8, decoded once on first use. */
    text: string;
    /** Whom the request's secret speaks for (set by authentication). */
    credential: Credential;
  };
}

export type ReceiverContext = Context<ReceiverEnv>;

/**
 * A request header (lower-case name). On Node it is read from the IncomingMessage directly: building the
 * fetch `Headers` object for every request costs more than the rest of a header check.
 */
export function header(c: ReceiverContext, name: string): string | undefined {
  const incoming = c.env?.incoming;
  if (incoming) {
    const value = incoming.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return c.req.header(name);
}

/** The body as text (UTF-8), decoded once. */
export function bodyText(c: ReceiverContext): string {
  let text = c.get('text');
  if (text === undefined) {
    text = c.get('body').toString('utf8');
    c.set('text', text);
  }
  return text;
}

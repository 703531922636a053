/**
 * One HTTP request to a registry or token realm with global `fetch`: a per-request timeout merged with the
 * caller's signal, and network failures turned into `RegistryUnavailable` naming only the endpoint
 * (never headers, which may carry credentials).
 */
import type { Secret } from '../secret.js';
import { RegistryUnavailable } from './errors.js';

export interface RequestOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export async function request(url: URL, init: RequestInit, where: string, opts: RequestOptions): Promise<Response> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    return await fetch(url, { ...init, signal, redirect: 'follow' });
  } catch (err) {
    // The caller gave up: let its own reason through rather than calling it a registry failure.
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (timeout.aborted)
      throw new RegistryUnavailable(`${where}: no answer within ${opts.timeoutMs} ms`, { cause: err });
    throw new RegistryUnavailable(`${where}: ${describe(err)}`, { cause: err });
  }
}

/** `ECONNREFUSED`, `ENOTFOUND`, … from undici's `fetch failed` error, else its message. */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** `Basic base64(user:password)` (RFC 7617), built at the point of use. */
export function basicAuthorization(basic: { username: Secret; password: Secret }): string {
  return `Basic ${Buffer.from(`${basic.username.reveal()}:${basic.password.reveal()}`).toString('base64')}`;
}

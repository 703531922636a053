/**
 * The bearer-token dance (distribution spec/auth/token.md): GET the challenge's realm with `service` and
 * `scope`, Basic credentials when we have some (anonymous otherwise), and read `token` (or `access_token`)
 * and `expires_in` (60 s when absent, as the spec says) from the JSON answer.
 */
import { Secret } from '../secret.js';
import type { RegistryCredential } from './credentials.js';
import { RegistryAuthFailed, RegistryError, RegistryUnavailable } from './errors.js';
import { basicAuthorization, request } from './request.js';

export interface BearerToken {
  authorization: Secret;
  ttlMs: number;
}

export interface FetchTokenOptions {
  credential: RegistryCredential | undefined;
  /** Whether the registry itself was reached over https: then the realm must be https too. */
  secureRegistry: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export async function fetchToken(
  params: Record<string, string>,
  scope: string,
  opts: FetchTokenOptions,
): Promise<BearerToken> {
  const realm = parseRealm(params.realm, opts.secureRegistry);
  if (params.service) realm.searchParams.set('service', params.service);
  realm.searchParams.set('scope', scope);
  const where = `token realm ${realm.origin}${realm.pathname}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.credential?.basic) headers.authorization = basicAuthorization(opts.credential.basic);
  const res = await request(realm, { method: 'GET', headers }, where, opts);
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new RegistryAuthFailed(
      `${where} refused ${opts.credential?.basic ? 'the configured credentials' : 'an anonymous request'} (HTTP ${res.status})`,
    );
  }
  if (res.status >= 500 || res.status === 429) {
    await res.body?.cancel();
    throw new RegistryUnavailable(`${where} answered HTTP ${res.status}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new RegistryError(`${where} answered HTTP ${res.status}`);
  }
  let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new RegistryUnavailable(`${where} answered with something that is not JSON`);
  }
  const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
  if (typeof token !== 'string' || !token) throw new RegistryError(`${where} answered without a token`);
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
  return { authorization: new Secret(`Bearer ${token}`), ttlMs: expiresIn * 1000 };
}

/** The realm comes from the registry: only http(s), no userinfo, and no downgrade from an https registry. */
function parseRealm(realm: string | undefined, secureRegistry: boolean): URL {
  let url: URL;
  try {
    url = new URL(realm ?? '');
  } catch {
    throw new RegistryError(`registry sent a Bearer challenge without a usable realm URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new RegistryError(`token realm must be http(s), got ${url.protocol}`);
  if (url.username || url.password) throw new RegistryError(`token realm URL must not carry credentials`);
  if (secureRegistry && url.protocol !== 'https:') {
    throw new RegistryAuthFailed(
      `token realm ${url.origin} is plain http for an https registry: not sending credentials there`,
    );
  }
  return url;
}

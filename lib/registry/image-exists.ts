/**
 * Does `image:tag` exist? `HEAD /v2/<name>/manifests/<tag>` (OCI distribution spec, "Checking if content
 * exists"): 200 yes, 404 not yet. A 401 is answered once: Bearer → fetch a token from the realm, Basic →
 * send the configured credentials; a second 401 is `RegistryAuthFailed`.
 */
import { Secret } from '../secret.js';
import { credentialFor, type RegistryCredential } from './credentials.js';
import { RegistryAuthFailed, RegistryError, RegistryUnavailable } from './errors.js';
import { fetchToken } from './fetch-token.js';
import { parseChallenges } from './parse-challenge.js';
import { checkImageRef, locateImage, type ImageRef } from './reference.js';
import { basicAuthorization, request } from './request.js';
import { defaultTokenCache, tokenKey, type TokenCache } from './token-cache.js';

/** Every manifest type a tag may point to: without these a registry may answer 404 for an index. */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryOptions {
  /** From `registryCredentials(config.registries, env)`; registries not listed are anonymous https. */
  credentials?: readonly RegistryCredential[];
  /** Per request (registry or token realm). */
  timeoutMs?: number;
  tokens?: TokenCache;
  signal?: AbortSignal;
}

export async function imageExists(ref: ImageRef, opts: RegistryOptions = {}): Promise<boolean> {
  const { image, tag } = checkImageRef(ref);
  const { timeoutMs = 10_000, tokens = defaultTokenCache, signal } = opts;
  const location = locateImage(image);
  const credential = credentialFor(location.registry, opts.credentials ?? []);
  const secure = !credential?.insecure;
  const url = new URL(`${secure ? 'https' : 'http'}://${location.apiHost}/v2/${location.repository}/manifests/${tag}`);
  const scope = `repository:${location.repository}:pull`;
  const key = tokenKey(url.origin, scope, credential);
  const where = `${location.registry}/${location.repository}:${tag}`;

  const head = async (authorization: Secret | undefined) => {
    const headers: Record<string, string> = { accept: MANIFEST_TYPES };
    if (authorization) headers.authorization = authorization.reveal();
    const res = await request(url, { method: 'HEAD', headers }, `registry ${url.host}`, { timeoutMs, signal });
    await res.body?.cancel();
    return res;
  };

  let res = await head(tokens.get(key));
  if (res.status === 401) {
    tokens.delete(key);
    const fresh = await answerChallenge(
      res.headers.get('www-authenticate') ?? '',
      scope,
      credential,
      secure,
      { timeoutMs, signal },
      where,
    );
    tokens.set(key, fresh.authorization, fresh.ttlMs);
    res = await head(fresh.authorization);
    if (res.status === 401) {
      tokens.delete(key);
      throw new RegistryAuthFailed(
        `${where}: registry refused ${credential?.basic ? 'the configured credentials' : 'anonymous access'} (HTTP 401 after authenticating)`,
      );
    }
  }
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  if (res.status === 403) throw new RegistryAuthFailed(`${where}: access denied (HTTP 403)`);
  if (res.status >= 500 || res.status === 429)
    throw new RegistryUnavailable(`${where}: registry answered HTTP ${res.status}`);
  throw new RegistryError(`${where}: registry answered HTTP ${res.status}`);
}

async function answerChallenge(
  header: string,
  scope: string,
  credential: RegistryCredential | undefined,
  secure: boolean,
  opts: { timeoutMs: number; signal?: AbortSignal },
  where: string,
): Promise<{ authorization: Secret; ttlMs: number }> {
  const challenges = parseChallenges(header);
  const bearer = challenges.find((c) => c.scheme === 'bearer');
  if (bearer)
    return fetchToken(bearer.params, bearer.params.scope || scope, { credential, secureRegistry: secure, ...opts });
  if (challenges.some((c) => c.scheme === 'basic')) {
    if (!credential?.basic) {
      throw new RegistryAuthFailed(
        `${where}: registry wants Basic credentials and none are configured (registries[].usernameEnv/passwordEnv)`,
      );
    }
    // Credentials sent over plain http only when the operator said `insecure: true` for this registry.
    return { authorization: new Secret(basicAuthorization(credential.basic)), ttlMs: 3_600_000 };
  }
  throw new RegistryAuthFailed(`${where}: registry answered 401 with no Bearer or Basic challenge`);
}

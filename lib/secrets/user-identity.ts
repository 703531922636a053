/**
 * A person's age identities for `fjord secrets`, found where sops looks (getsops.io/docs, "Encrypting using
 * age"): `SOPS_AGE_KEY`, then the file `SOPS_AGE_KEY_FILE`, then `$XDG_CONFIG_HOME/sops/age/keys.txt`
 * (`~/.config/sops/age/keys.txt`). The worker never uses these: it has its own (`secrets.identityEnv`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secret } from '../secret.js';
import { parseIdentities } from './age-key.js';

export function userIdentities(env: NodeJS.ProcessEnv): Secret[] {
  const file =
    env.SOPS_AGE_KEY_FILE ?? join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? '', '.config'), 'sops', 'age', 'keys.txt');
  const text = env.SOPS_AGE_KEY ?? (existsSync(file) ? readFileSync(file, 'utf8') : '');
  // One Secret per key, so each is scrubbed on its own.
  return parseIdentities(text).map((k) => new Secret(k));
}

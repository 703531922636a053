/**
 * The age data-key layer shared by SOPS and plain age files: `age-encryption` (typage, by age's author),
 * which runs in Node 20, Lambda and Workers alike, so no `age` or `sops` binary is needed.
 */
import { armor, Decrypter, Encrypter } from 'age-encryption';
import type { Secret } from '../secret.js';
import { SecretsIdentityMismatch, SecretsInvalid } from './errors.js';

/** Identities from a key file's text: `AGE-SECRET-KEY-1…` lines; `#` comments and blank lines skipped. */
export function parseIdentities(text: string): string[] {
  return text
    .split(/\r?\n|,/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Decrypts an age file (armored or binary) with the worker's identities. */
export async function ageDecrypt(
  file: string | Uint8Array,
  identities: readonly Secret[],
  what: string,
): Promise<Uint8Array> {
  const keys = identities.flatMap((s) => parseIdentities(s.reveal()));
  if (!keys.length)
    throw new SecretsIdentityMismatch(
      `${what}: no age identity configured (set the variable secrets.identityEnv names, default FJORD_AGE_KEY)`,
    );
  let bytes: Uint8Array;
  try {
    bytes = typeof file === 'string' ? armor.decode(file) : file;
  } catch {
    throw new SecretsInvalid(`${what}: not an age file (armor could not be read)`);
  }
  const d = new Decrypter();
  try {
    for (const k of keys) d.addIdentity(k);
  } catch {
    throw new SecretsIdentityMismatch(`${what}: the configured age identity is not a valid AGE-SECRET-KEY-1… key`);
  }
  try {
    return await d.decrypt(bytes);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/no identity matched/i.test(msg))
      throw new SecretsIdentityMismatch(
        `${what}: none of the worker's age identities is a recipient of this file (re-encrypt it to the worker's public key: fjord secrets rotate)`,
      );
    throw new SecretsInvalid(`${what}: age decryption failed (${msg.slice(0, 120)})`);
  }
}

/** Encrypts `plain` to `recipients` (`age1…`), ASCII-armored. */
export async function ageEncrypt(plain: string | Uint8Array, recipients: readonly string[]): Promise<string> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return armor.encode(await e.encrypt(plain));
}

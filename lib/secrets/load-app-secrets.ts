/**
 * An environment's secrets, read from the manifest repository at the branch head and decrypted in the
 * worker: a SOPS file (YAML/JSON, age recipients) or an ASCII-armored age-encrypted dotenv file (`*.age`, `age -a`). Every value
 * becomes a `Secret` (scrubbed from every log line) and is carried as the env file's text, also a Secret;
 * the digest that labels the container is of the encrypted bytes, which git already shows, never of values.
 */
import { createHash } from 'node:crypto';
import type { EnvironmentConfig } from '../config/schema.js';
import { Secret } from '../secret.js';
import { ageDecrypt, ageEncrypt } from './age-key.js';
import { SecretsInvalid } from './errors.js';
import { envFromTree, parseDotenv, renderEnvFile } from './env-values.js';
import { decryptSops, encryptSops } from './sops.js';

export interface AppSecrets {
  /** The file in the manifest repository. */
  file: string;
  /** First 16 hex digits of SHA-256 over the encrypted file: the container's `fjord.secrets` label. */
  digest: string;
  /** Variable names, sorted (notes and plans may show them; values never). */
  keys: string[];
  /** The env file's text. */
  envFile: Secret;
  /** Each value, for redaction of what containers print. */
  values: Secret[];
}

/** The values to mask in what a container printed (4 characters or more, as `envValues`). */
export const secretValues = (s: AppSecrets | undefined): string[] =>
  (s?.values ?? []).map((v) => v.reveal()).filter((v) => v.length >= 4);

export type SecretsConfig = NonNullable<EnvironmentConfig['secrets']>;

export const secretsFormat = (s: SecretsConfig): 'sops' | 'age' =>
  s.format ?? (s.file.endsWith('.age') ? 'age' : 'sops');

/** Decrypts `text` (the file's content) with `identities`; throws `SecretsIdentityMismatch` / `SecretsInvalid`. */
export async function decryptAppSecrets(
  s: SecretsConfig,
  text: string,
  identities: readonly Secret[],
): Promise<AppSecrets> {
  const values = await decryptEnvValues(s, text, identities);
  return {
    file: s.file,
    digest: createHash('sha256').update(text).digest('hex').slice(0, 16),
    keys: [...values.keys()].sort(),
    envFile: new Secret(renderEnvFile(values)),
    values: [...values.values()].map((v) => new Secret(v)),
  };
}

/** The file's variables in file order (`fjord secrets` edits these; the worker renders them as the env file). */
export async function decryptEnvValues(
  s: SecretsConfig,
  text: string,
  identities: readonly Secret[],
): Promise<Map<string, string>> {
  const what = `secrets file ${s.file}`;
  return secretsFormat(s) === 'age'
    ? parseDotenv(new TextDecoder().decode(await ageDecrypt(text, identities, what)), what) // armored (`age -a`): git stores text
    : envFromTree(await decryptSops(text, identities, what), what);
}

/** The file's text for `values`, encrypted to `recipients` with a fresh data key (SOPS YAML, or an armored age dotenv file). */
export async function encryptEnvValues(
  s: SecretsConfig,
  values: ReadonlyMap<string, string>,
  recipients: readonly string[],
): Promise<string> {
  if (secretsFormat(s) === 'age') return ageEncrypt([...values].map(([k, v]) => `${k}=${v}\n`).join(''), recipients);
  if (s.file.endsWith('.json'))
    throw new SecretsInvalid(`secrets file ${s.file}: fjord secrets writes SOPS YAML; use sops itself for a JSON file`);
  return encryptSops(new Map(values), recipients);
}

/**
 * SOPS files (YAML or JSON) encrypted with age, decrypted and written in-process, following getsops/sops:
 * - `aes/cipher.go`: each value is `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<str|int|float|bool|comment>]`,
 *   AES-256-GCM under the file's data key with a 32-byte nonce; the additional data is the value's path,
 *   `strings.Join(path, ":") + ":"` (`sops.go` `Tree.Encrypt`/`Decrypt`; list items keep their parent's path).
 * - `age/keysource.go`: the 32-byte data key is an armored age file per recipient, `sops.age[].enc`.
 * - `sops.go`: the MAC is the upper-case hex SHA-512 of every value's bytes in tree order (comments
 *   excluded; `ToBytes`: bools `True`/`False`), stored in `sops.mac` encrypted with `sops.lastmodified`
 *   as the additional data. A file whose MAC does not match is refused.
 * `unencrypted_suffix` / `encrypted_suffix` / `unencrypted_regex` / `encrypted_regex` are honoured;
 * `mac_only_encrypted` and the comment regexes are refused as unsupported.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Document, parse, type Scalar } from 'yaml';
import type { Secret } from '../secret.js';
import { ageDecrypt, ageEncrypt } from './age-key.js';
import { SecretsInvalid } from './errors.js';

type Leaf = string | number | boolean | null;
type Tree = Map<string, unknown>;
const ENC =
  /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:(str|int|int64|float|bool|bytes|comment)\]$/;

interface Rules {
  unencrypted_suffix?: string;
  encrypted_suffix?: string;
  unencrypted_regex?: string;
  encrypted_regex?: string;
}

/** sops `shouldBeEncrypted` for the key-name rules (`sops.go`). */
function encrypted(path: string[], r: Rules): boolean {
  let on = true;
  if (r.unencrypted_suffix && path.some((p) => p.endsWith(r.unencrypted_suffix!))) on = false;
  if (r.encrypted_suffix) on = path.some((p) => p.endsWith(r.encrypted_suffix!));
  if (r.unencrypted_regex && path.some((p) => new RegExp(r.unencrypted_regex!).test(p))) on = false;
  if (r.encrypted_regex) on = path.some((p) => new RegExp(r.encrypted_regex!).test(p));
  return on;
}

/** sops `ToBytes`. */
const toBytes = (v: Leaf): string => (typeof v === 'boolean' ? (v ? 'True' : 'False') : v === null ? '' : String(v));

function decryptValue(value: string, key: Buffer, aad: string, what: string): Leaf {
  if (value === '') return '';
  const m = ENC.exec(value);
  if (!m) throw new SecretsInvalid(`${what}: ${aad.slice(0, -1) || '(root)'} is not a SOPS-encrypted value`);
  const [, data, iv, tag, type] = m;
  let plain: string;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64'), { authTagLength: 16 });
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(tag!, 'base64'));
    plain = Buffer.concat([d.update(Buffer.from(data!, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new SecretsInvalid(
      `${what}: ${aad.slice(0, -1)} does not decrypt under the file's data key (edited by hand, or moved to another key)`,
    );
  }
  if (type === 'int' || type === 'int64' || type === 'float') return Number(plain);
  if (type === 'bool') return /^(true|1|t)$/i.test(plain);
  return plain;
}

export function encryptValue(value: Leaf, key: Buffer, aad: string): string {
  if (value === '' || value === null) return '';
  const type =
    typeof value === 'boolean'
      ? 'bool'
      : typeof value === 'number'
        ? Number.isInteger(value)
          ? 'int'
          : 'float'
        : 'str';
  const iv = randomBytes(32);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(Buffer.from(aad));
  const data = Buffer.concat([c.update(toBytes(value), 'utf8'), c.final()]);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${c.getAuthTag().toString('base64')},type:${type}]`;
}

/** Walks the tree in order, replacing each leaf with `fn(leaf, path)`; lists keep their parent's path. */
function walk(node: unknown, path: string[], fn: (v: Leaf, path: string[]) => Leaf): unknown {
  if (node instanceof Map) return new Map([...node].map(([k, v]) => [String(k), walk(v, [...path, String(k)], fn)]));
  if (Array.isArray(node)) return node.map((v) => walk(v, path, fn));
  return fn(node as Leaf, path);
}

const readTree = (text: string, what: string): Tree => {
  let doc: unknown;
  try {
    doc = parse(text, { mapAsMap: true });
  } catch {
    throw new SecretsInvalid(`${what}: not valid YAML or JSON`);
  }
  if (!(doc instanceof Map) || !(doc.get('sops') instanceof Map))
    throw new SecretsInvalid(`${what}: not a SOPS file (no sops metadata key)`);
  return doc;
};

/** The decrypted tree of a SOPS file (without its `sops` key), after the MAC was verified. */
export async function decryptSops(
  text: string,
  identities: readonly Secret[],
  what: string,
): Promise<Map<string, unknown>> {
  const doc = readTree(text, what);
  const meta = Object.fromEntries(doc.get('sops') as Tree) as Record<string, unknown>;
  if (meta.mac_only_encrypted || meta.unencrypted_comment_regex || meta.encrypted_comment_regex)
    throw new SecretsInvalid(
      `${what}: mac_only_encrypted and comment regexes are not supported; re-encrypt without them`,
    );
  const stanzas = Array.isArray(meta.age) ? (meta.age as unknown[]).filter((s): s is Tree => s instanceof Map) : [];
  if (!stanzas.length)
    throw new SecretsInvalid(`${what}: the file has no age recipients (sops.age); fjord decrypts age only`);
  let key: Buffer | undefined;
  let last: unknown;
  for (const s of stanzas) {
    try {
      key = Buffer.from(await ageDecrypt(String(s.get('enc') ?? ''), identities, what));
      break;
    } catch (err) {
      last = err;
    }
  }
  if (!key) throw last;
  if (key.length !== 32) throw new SecretsInvalid(`${what}: the data key is not 32 bytes`);
  const body = new Map(doc);
  body.delete('sops');
  const hash = createHash('sha512');
  const rules = meta as Rules;
  const out = walk(body, [], (v, path) => {
    const plain =
      encrypted(path, rules) && typeof v === 'string' ? decryptValue(v, key!, `${path.join(':')}:`, what) : v;
    hash.update(toBytes(plain), 'utf8');
    return plain;
  }) as Tree;
  const lastModified = String(meta.lastmodified ?? '');
  const stored = typeof meta.mac === 'string' ? decryptValue(meta.mac, key, lastModified, what) : undefined;
  const mac = Buffer.from(hash.digest('hex').toUpperCase());
  if (typeof stored !== 'string' || stored.length !== mac.length || !timingSafeEqual(Buffer.from(stored), mac))
    throw new SecretsInvalid(
      `${what}: MAC mismatch: the file was changed without its key (re-encrypt it with sops or fjord secrets set)`,
    );
  return out;
}

/** A SOPS YAML file of `values` for `recipients` (what `sops encrypt --age …` writes, with version 3.9.0 metadata). */
export async function encryptSops(
  values: Map<string, Leaf>,
  recipients: readonly string[],
  now = new Date(),
): Promise<string> {
  const key = randomBytes(32);
  const hash = createHash('sha512');
  const body = walk(values, [], (v, path) => {
    hash.update(toBytes(v), 'utf8');
    return encryptValue(v, key, `${path.join(':')}:`);
  }) as Tree;
  const lastmodified = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const age = await Promise.all(
    recipients.map(async (recipient) => ({ recipient, enc: await ageEncrypt(key, [recipient]) })),
  );
  const mac = encryptValue(hash.digest('hex').toUpperCase(), key, lastmodified);
  const doc = new Document({
    ...Object.fromEntries(body),
    sops: { age, lastmodified, mac, unencrypted_suffix: '_unencrypted', version: '3.9.0' },
  });
  // Quoted as sops writes it: an unquoted timestamp is a time, not a string, to YAML 1.1 readers.
  (doc.getIn(['sops', 'lastmodified'], true) as Scalar).type = 'QUOTE_DOUBLE';
  return doc.toString({ indent: 4, lineWidth: 0 });
}

/** The `age1…` recipients a SOPS file is encrypted to (what `fjord secrets set` encrypts to again). */
export function sopsRecipients(text: string, what: string): string[] {
  const meta = readTree(text, what).get('sops') as Tree;
  const age = meta.get('age');
  return Array.isArray(age)
    ? age.filter((s): s is Tree => s instanceof Map).map((s) => String(s.get('recipient')))
    : [];
}

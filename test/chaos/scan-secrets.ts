/**
 * The secret scan of `npm run chaos` (issue 6, item 5): every declared secret (test/chaos/figures.ts
 * `declareSecrets`) is looked for in everything captured — as written, JSON-escaped (log lines are JSON),
 * and, for a PEM private key, each of its base64 body lines on its own, since a key cut into a log line
 * leaks line by line. Any private-key armour line (`-----BEGIN … PRIVATE KEY-----`) is a leak whatever key
 * it starts. A leak is reported by a fingerprint of the secret, never the secret itself.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Needle {
  /** `secret sha256:<12 hex>` (+ `line N` for a key's body line): safe to print. */
  label: string;
  value: string;
}

export interface Leak {
  label: string;
  /** Where it was found: `captured.log:123`, `stdout:45`. */
  where: string;
}

export interface NamedText {
  name: string;
  text: string;
}

/** PEM armour that only ever starts a private key (PKCS#1, PKCS#8, SEC1, OpenSSH, encrypted). */
export const PRIVATE_KEY_ARMOUR = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/g;
/** Shorter key body lines (the last one of a key) could match by chance: they are covered by the others. */
const MIN_BODY_LINE = 20;

const fingerprint = (value: string) => `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;

/** What to look for, for each declared secret. */
export function needlesOf(secrets: readonly string[]): Needle[] {
  const out = new Map<string, Needle>();
  const add = (label: string, value: string) => {
    if (value.length > 0 && !out.has(value)) out.set(value, { label, value });
  };
  for (const secret of secrets) {
    const label = `secret ${fingerprint(secret)}`;
    add(label, secret);
    add(label, JSON.stringify(secret).slice(1, -1));
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(secret)) {
      secret.split(/\r?\n/).forEach((line, i) => {
        const body = line.trim();
        if (body.length >= MIN_BODY_LINE && /^[A-Za-z0-9+/=]+$/.test(body)) add(`${label} body line ${i}`, body);
      });
    }
  }
  return [...out.values()];
}

/** Every occurrence of a needle or of private-key armour in `text`, with its line number. */
export function findLeaks({ name, text }: NamedText, needles: readonly Needle[]): Leak[] {
  const starts = lineStarts(text);
  const lineAt = (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const leaks: Leak[] = [];
  for (const { label, value } of needles) {
    for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + value.length))
      leaks.push({ label, where: `${name}:${lineAt(at)}` });
  }
  for (const m of text.matchAll(PRIVATE_KEY_ARMOUR))
    leaks.push({ label: 'private key armour', where: `${name}:${lineAt(m.index ?? 0)}` });
  return leaks;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The secrets the chaos files declared in `dir` (secrets.jsonl), deduplicated. */
export function declaredSecrets(dir: string): string[] {
  const file = join(dir, 'secrets.jsonl');
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return [...new Set(lines.map((l) => JSON.parse(l) as string))];
}

export interface ScanResult {
  secrets: number;
  /** Bytes scanned (captured.log and the extra texts). */
  bytes: number;
  leaks: Leak[];
}

/** Scans `dir/captured.log` and `extra` (the suite's stdout and stderr) for the secrets declared in `dir`. */
export function scanChaosDir(dir: string, extra: readonly NamedText[] = []): ScanResult {
  const secrets = declaredSecrets(dir);
  const needles = needlesOf(secrets);
  const captured = join(dir, 'captured.log');
  const texts: NamedText[] = [
    ...(existsSync(captured) ? [{ name: 'captured.log', text: readFileSync(captured, 'utf8') }] : []),
    ...extra,
  ];
  return {
    secrets: secrets.length,
    bytes: texts.reduce((n, t) => n + Buffer.byteLength(t.text), 0),
    leaks: texts.flatMap((t) => findLeaks(t, needles)),
  };
}

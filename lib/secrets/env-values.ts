/**
 * App secrets as environment variables: names checked against the env-name grammar, values against
 * what `docker run --env-file` can carry (one line each: no newline, carriage return or NUL), and the
 * file written to the host (`KEY=VALUE` lines; docker reads the value verbatim to the end of the line).
 */
import { SecretsInvalid } from './errors.js';

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Turns a decrypted tree's top level into env values; nested maps and lists are refused. */
export function envFromTree(tree: Map<string, unknown>, what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of tree) {
    if (!ENV_NAME.test(key))
      throw new SecretsInvalid(
        `${what}: key ${JSON.stringify(key.slice(0, 64))} is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)`,
      );
    if (value !== null && typeof value === 'object')
      throw new SecretsInvalid(`${what}: ${key} must be a plain value, not a map or list`);
    out.set(key, checked(key, value === null ? '' : String(value), what));
  }
  return out;
}

function checked(key: string, value: string, what: string): string {
  // The message names the key only: the value is the secret.
  if (/[\r\n\0]/.test(value))
    throw new SecretsInvalid(`${what}: the value of ${key} contains a newline or NUL, which an env file cannot carry`);
  return value;
}

/** `KEY=VALUE` lines (comments `#`, blank lines, an optional `export `, and one pair of matching quotes allowed). */
export function parseDotenv(text: string, what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([^=\s]+)\s*=(.*)$/.exec(line);
    if (!m) throw new SecretsInvalid(`${what}: line ${i + 1} is not KEY=VALUE`);
    const key = m[1]!;
    if (!ENV_NAME.test(key))
      throw new SecretsInvalid(
        `${what}: line ${i + 1}: ${JSON.stringify(key.slice(0, 64))} is not an environment variable name`,
      );
    let value = m[2]!.trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0]!))
      value = value.slice(1, -1);
    out.set(key, checked(key, value, what));
  }
  return out;
}

/** The env file's text, keys sorted so that the same secrets always give the same bytes. */
export const renderEnvFile = (values: ReadonlyMap<string, string>): string =>
  [...values.keys()]
    .sort()
    .map((k) => `${k}=${values.get(k)}\n`)
    .join('');

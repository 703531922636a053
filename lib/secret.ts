/**
 * A secret value that prints as `[redacted]` in logs, errors and JSON, and is unwrapped only where it is
 * used (kamal `lib/kamal/utils/sensitive.rb`). Every Secret made is also registered with the logger's
 * scrubber, so a value that leaks into a message by another path is still masked.
 */
import { inspect } from 'node:util';

const known = new Set<string>();

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    if (value.length >= 6) known.add(value);
  }
  /** The raw value: call only at the point of use (HMAC key, Authorization header, ssh2 option). */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

/** Replaces every known secret value in `text` (and each of `also`, e.g. `container.env` values) with `[redacted]`. */
export function scrub(text: string, also: readonly string[] = []): string {
  let out = text;
  // Longest first, so a value that contains another is masked whole.
  const values = also.length ? [...new Set([...known, ...also])].sort((a, b) => b.length - a.length) : known;
  for (const value of values) if (value && out.includes(value)) out = out.split(value).join('[redacted]');
  return out;
}

/**
 * The `container.env` values to mask in what a container printed: those of 4 characters or more
 * (masking `1`, `on` or `dev` would blank out ordinary words and hide nothing worth hiding).
 */
export const envValues = (env: Record<string, string>): string[] => Object.values(env).filter((v) => v.length >= 4);

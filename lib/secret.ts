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

/** Replaces every known secret value in `text` with `[redacted]`. */
export function scrub(text: string): string {
  let out = text;
  for (const value of known) if (out.includes(value)) out = out.split(value).join('[redacted]');
  return out;
}

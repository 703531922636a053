/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1): one or more challenges, each a scheme followed by
 * comma-separated `name=value` parameters whose values are tokens or quoted strings. Registries send
 * `Bearer realm="…",service="…",scope="…"` (distribution spec/auth/token.md) or `Basic realm="…"`.
 */
export interface Challenge {
  /** Lower-cased: `bearer`, `basic`. */
  scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const SCHEME = new RegExp(`^(${TOKEN})`);
// Unquoted values should be tokens; URLs sent unquoted are tolerated, but a value never starts with `=`
// (so a token68 such as `abc==` is not read as a parameter).
const PARAM = new RegExp(`^(${TOKEN})[ \\t]*=[ \\t]*("(?:[^"\\\\]|\\\\.)*"|[^\\s,"=][^\\s,"]*)`);

/** Every challenge in the header, in order; unparseable remainders are skipped, never thrown on. */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let rest = header;
  const skip = (re: RegExp) => (rest = rest.replace(re, ''));
  while (skip(/^[\s,]+/).length > 0) {
    const param = PARAM.exec(rest);
    if (param && out.length > 0) {
      const raw = param[2]!;
      const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      out[out.length - 1]!.params[param[1]!.toLowerCase()] = value;
      rest = rest.slice(param[0].length);
      continue;
    }
    const scheme = SCHEME.exec(rest);
    if (!scheme) {
      rest = rest.slice(1);
      continue;
    }
    out.push({ scheme: scheme[1]!.toLowerCase(), params: {} });
    rest = rest.slice(scheme[0].length);
    // A token68 credential (`Negotiate abc==`) is not a parameter: skip it.
    if (/^[ \t]+[A-Za-z0-9._~+/-]+=*[ \t]*(?:,|$)/.test(rest) && !PARAM.test(rest.trimStart()))
      skip(/^[ \t]+[A-Za-z0-9._~+/-]+=*/);
  }
  return out;
}

/**
 * Internal addresses kept out of what people outside the fleet read — the status page and MR notes
 * (issue 12, item 5): IPv4 addresses and `[IPv6]` literals, with their `:port`, and the configured hosts'
 * own addresses (which may be internal DNS names), become `[address]`. Host names from fjord.yaml stay:
 * they are what the reader knows a host by. So does the registry of an image reference
 * (`10.0.0.5:5000/acme/api:v42`): the image is fjord.yaml's, named on purpose; a URL's host
 * (`http://10.0.0.5:8080/health`) is hidden. Logs keep the addresses (operators need them).
 */
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])/g;
const IPV6 = /\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\](?::\d{1,5})?/g;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// An address followed by `/name` and not preceded by `scheme://` or `user@` is an image's registry.
const hide = (match: string, offset: number, text: string): string =>
  text[offset + match.length] === '/' &&
  /\w/.test(text[offset + match.length + 1] ?? '') &&
  !/(:\/\/|@)$/.test(text.slice(0, offset))
    ? match
    : '[address]';

/**
 * `text` with every address (and each of `addresses`, with an optional `:port`) replaced by `[address]`;
 * the URLs in `keep` (the GitLab the reader is on) stay whole.
 */
export function hideAddresses(text: string, addresses: readonly string[] = [], keep: readonly string[] = []): string {
  // Kept URLs are swapped for NUL-delimited indexes (never in note or page text) and put back at the end.
  let out = keep.reduce((t, url, i) => t.replaceAll(url, `\0${i}\0`), text);
  const named = addresses.filter((a) => a.length > 0).sort((a, b) => b.length - a.length);
  if (named.length > 0)
    out = out.replace(
      new RegExp(`(?<![\\w.-])(?:${named.map(escapeRegExp).join('|')})(?::\\d{1,5})?(?![\\w-]|\\.\\w)`, 'g'),
      hide,
    );
  out = out.replace(IPV6, hide).replace(IPV4, hide);
  return out.replace(/\0(\d+)\0/g, (_, i: string) => keep[Number(i)]!);
}

/** The configured hosts' addresses, for `hideAddresses`. */
export const hostAddresses = (hosts: Record<string, { address: string }>): string[] =>
  Object.values(hosts).map((h) => h.address);

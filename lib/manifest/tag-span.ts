/**
 * From a located tag to the exact characters of the manifest text that hold it, and back: the edit is a
 * splice of the original text at the scalar's source range (never `doc.toString()`, which re-renders the
 * whole file). The scalar keeps its quoting; a plain scalar is double-quoted only when the new tag would
 * otherwise read back as something other than that string (`1.10` is a float, `yes` a YAML 1.1 boolean).
 */
import { parse, Scalar } from 'yaml';
import { ManifestTargetUnsupported } from './errors.js';
import { splitImageRef } from './image-ref.js';
import type { TagSite } from './types.js';

export interface TagSpan {
  /** Offsets in the manifest text of the characters that are the tag (empty when there is none yet). */
  start: number;
  end: number;
  /** The tag as written, or undefined when unset (`tag:`, `tag: ~`, `tag: ""`, `image: nginx`). */
  tag?: string;
  /** A plain scalar holding only the tag. */
  plain: boolean;
  /** …without a `!!str` tag: the new tag may need quotes to stay a string. */
  mayQuote: boolean;
  /** A reference without a tag: the edit inserts `:` before the tag. */
  needsColon: boolean;
}

const QUOTES: Partial<Record<string, string>> = { [Scalar.QUOTE_DOUBLE]: '"', [Scalar.QUOTE_SINGLE]: "'" };

/** The tag's characters in `text` for `site`; refuses what cannot be edited byte-exactly. */
export function tagSpan(text: string, site: TagSite): TagSpan {
  const { node, where } = site;
  if (node.type !== Scalar.PLAIN && !QUOTES[node.type ?? '']) {
    throw new ManifestTargetUnsupported(
      where,
      'the value is a block scalar (| or >); write it as a plain or quoted string',
    );
  }
  const [s, e] = node.range ?? [0, 0];
  const quote = QUOTES[node.type!];
  const [start, end] = quote ? [s + 1, e - 1] : [s, e];
  const raw = text.slice(start, end);
  const isString = typeof node.value === 'string';
  if (raw.includes('\n') || (quote && text[s] !== quote) || (isString && raw !== node.value)) {
    throw new ManifestTargetUnsupported(
      where,
      'the value is written with escapes or over several lines; write it on one line without escapes',
    );
  }
  if (site.kind === 'tag') {
    const unset = raw === '' || (!quote && node.value === null);
    const plain = !quote;
    return {
      start,
      end,
      tag: unset ? undefined : raw,
      plain,
      mayQuote: plain && node.tag !== 'tag:yaml.org,2002:str',
      needsColon: false,
    };
  }
  if (!isString) throw new ManifestTargetUnsupported(where, 'is not an image reference');
  const ref = splitImageRef(raw);
  if (ref.digest !== undefined) {
    throw new ManifestTargetUnsupported(
      where,
      `the image is pinned by digest (@${ref.digest}), which wins over the tag; remove the digest first`,
    );
  }
  if ((ref.tag ?? ref.name).includes('$')) {
    throw new ManifestTargetUnsupported(
      where,
      `the ${ref.tag === undefined ? 'image' : 'tag'} is a variable (${raw}); set the variable instead of editing the file`,
    );
  }
  return {
    start: start + ref.tagStart,
    end: start + ref.tagEnd,
    tag: ref.tag || undefined,
    plain: false,
    mayQuote: false,
    needsColon: ref.tag === undefined,
  };
}

/** Whether a plain scalar `tag` reads back as the same string under YAML 1.2 and YAML 1.1 (Go, Helm). */
export const plainStaysString = (tag: string): boolean =>
  parse(tag, { version: '1.2' }) === tag && parse(tag, { version: '1.1' }) === tag;

/** `text` with the tag at `span` replaced by `tag`. */
export function spliceTag(text: string, span: TagSpan, tag: string): string {
  let value = span.needsColon ? `:${tag}` : tag;
  if (span.mayQuote && !plainStaysString(tag)) value = `"${tag}"`;
  if (span.start === span.end && span.plain) {
    // An empty plain value (`tag:`): keep a space after the colon, and before a following `# comment`.
    if (!/[ \t]/.test(text[span.start - 1] ?? ' ')) value = ' ' + value;
    if (!/^(?:[\s,\]}]|$)/.test(text.slice(span.end, span.end + 1))) value += ' ';
  }
  return text.slice(0, span.start) + value + text.slice(span.end);
}

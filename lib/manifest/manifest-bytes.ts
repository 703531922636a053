/**
 * A manifest's bytes as text and back, losslessly, so that an edit changes only the tag's bytes even in a
 * file that is not valid UTF-8 (a Latin-1 comment, a stray byte). Valid UTF-8 decodes as usual; each byte
 * that is not part of a valid sequence becomes a lone surrogate U+DC80–U+DCFF (Python's "surrogateescape",
 * PEP 383), which valid UTF-8 never decodes to, and turns back into that byte on encoding.
 */
import { isUtf8 } from 'node:buffer';

const ESCAPED = /[\uDC80-\uDCFF]/u; // with `u`, only a lone surrogate matches, never half of a pair
const ESCAPED_ALL = /([\uDC80-\uDCFF])/u;

// Length of the UTF-8 sequence a lead byte starts (0: not a lead byte).
const sequenceLength = (b: number): number =>
  b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;

/** The text of `bytes`: UTF-8, with every undecodable byte kept as an escape. */
export function decodeManifest(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let run = 0; // start of the current run of valid sequences
  for (let i = 0; i < buf.length; ) {
    const n = sequenceLength(buf[i]!);
    if (n > 0 && i + n <= buf.length && isUtf8(buf.subarray(i, i + n))) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', run, i) + String.fromCharCode(0xdc00 + buf[i]!);
    run = ++i;
  }
  return out + buf.toString('utf8', run);
}

/** The bytes of `text` as `decodeManifest` would have read them. */
export function encodeManifest(text: string): Buffer {
  if (!ESCAPED.test(text)) return Buffer.from(text, 'utf8');
  return Buffer.concat(
    text
      .split(ESCAPED_ALL)
      .map((part, i) => (i % 2 ? Buffer.of(part.charCodeAt(0) - 0xdc00) : Buffer.from(part, 'utf8'))),
  );
}

/** Whether `text` holds bytes that are not UTF-8 (and must travel as bytes, e.g. base64 to the GitLab API). */
export const hasRawBytes = (text: string): boolean => ESCAPED.test(text);

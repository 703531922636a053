/**
 * Git trailers (`Key: value` lines in the last paragraph of a commit message, git-interpret-trailers(1)).
 * fjord writes its own as `Fjord-*` and reads them back from history: which tag a commit deployed, for
 * which job, from which source commit; and whether a commit on the manifest branch is fjord's own.
 */
import { InvalidCommitMessage } from './store-errors.js';

export const TRAILER_KEY = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]*(.*)$/;
// Control characters, line and paragraph separators: anything that could end a trailer line early.
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/** Formats trailers as lines, refusing keys and values that would break the block. */
export function formatTrailers(trailers: Array<[string, string]>): string {
  return trailers
    .map(([key, value]) => {
      if (!TRAILER_KEY.test(key))
        throw new InvalidCommitMessage(`trailer key ${JSON.stringify(key)} is not a valid git trailer key`);
      if (UNSAFE.test(value))
        throw new InvalidCommitMessage(`trailer ${key}: value contains a newline or control character`);
      return `${key}: ${value.trim()}`;
    })
    .join('\n');
}

/**
 * Trailers of a message: the last paragraph, when it is not the subject and every line is a trailer or
 * a continuation (leading whitespace). A repeated key keeps its last value, as GitLab's `trailers` does.
 */
export function parseTrailers(message: string): Record<string, string> {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .trimEnd()
    .split(/\n[ \t]*\n/);
  if (paragraphs.length < 2) return {};
  const lines = (paragraphs[paragraphs.length - 1] ?? '').split('\n');
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of lines) {
    const match = TRAILER_LINE.exec(line);
    if (match) {
      last = match[1]!;
      out[last] = match[2]!.trim();
    } else if (last && /^[ \t]/.test(line)) {
      out[last] = `${out[last]} ${line.trim()}`.trim();
    } else {
      return {};
    }
  }
  return out;
}

/** On a commit fjord proposed (`writeBack: mr`, `promote: mr`) instead of rolling it out itself. */
export const WRITE_BACK_TRAILER = 'Fjord-Write-Back';

/**
 * True for commits fjord made and rolled out itself (they carry `Fjord-Job`): converge skips them. A
 * commit fjord only proposed on a merge request branch (`Fjord-Write-Back: mr`) is not: merged by
 * fast-forward or rebase it lands on the branch as is, and only its converge rolls it out (issue 12, item 10).
 */
export function isFjordCommit(message: string): boolean {
  const trailers = parseTrailers(message);
  return 'Fjord-Job' in trailers && trailers[WRITE_BACK_TRAILER] !== 'mr';
}

/**
 * Strict grammars for every value that a webhook supplies and that later reaches a shell, a file path or a
 * YAML edit. Values are checked here, before a job exists; the SSH runner still quotes every argument.
 */
import * as z from 'zod';

/** Image tag, per the OCI distribution spec: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

// OCI reference grammar (distribution/reference): [domain '/'] path-component ('/' path-component)*
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]{1,5})?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** Image name without tag or digest, e.g. `registry.example.com:5000/acme/api`. */
export const IMAGE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

/** Full commit id (SHA-1, or SHA-256 object format). */
export const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Branch and tag names we accept: a conservative subset of git-check-ref-format (`+` for semver build tags). */
export const BRANCH = /^(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)(?!.*[/.]$)[A-Za-z0-9_][A-Za-z0-9_.+/-]{0,199}$/;

/** GitLab `group/subgroup/project` or GitHub `owner/repo`. */
export const PROJECT = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}){1,9}$/;

/** Names of apps, environments and hosts in fjord.yaml. */
export const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Free text that ends up in commit messages and notes (author names): printable, one line. */
export const TEXT = /^[^\p{Cc}\p{Zl}\p{Zp}]{0,200}$/u;

const grammar = (re: RegExp, what: string) => z.string().regex(re, { message: `not a valid ${what}` });

export const tagSchema = grammar(TAG, 'image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})');
export const imageSchema = grammar(IMAGE, 'image name (OCI reference grammar)').max(255);
export const shaSchema = grammar(SHA, 'commit sha (40 or 64 lowercase hex)');
export const branchSchema = grammar(BRANCH, 'branch name');
export const projectSchema = grammar(PROJECT, 'project path (group/project)');
export const nameSchema = grammar(NAME, 'name ([a-z0-9][a-z0-9_-]{0,62})');
export const textSchema = grammar(TEXT, 'single-line text of at most 200 characters');

// Text a webhook or a host supplied (author names, stderr, error messages) is data: before it reaches a
// commit, a note or a chat message it loses every character that changes how text reads rather than what
// it says: C0/C1 controls, bidi embeddings, overrides and isolates (Trojan Source, CVE-2021-42574),
// zero-width and other format characters (\p{Cf}), line and paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}]/gu;
const LINE_BREAK = /\r\n?|[\n\v\f\u0085\p{Zl}\p{Zp}]/gu;

/**
 * The one cleaning function for outside text. `lines: true` keeps line breaks (all written `\n`) and tabs
 * (stderr, diagnostics); otherwise the text becomes one line, whitespace runs around breaks one space.
 */
export function cleanText(text: string, { lines = false }: { lines?: boolean } = {}): string {
  const broken = text.replace(LINE_BREAK, '\n');
  if (lines) return broken.replace(INVISIBLE, (c) => (c === '\n' || c === '\t' ? c : ''));
  return broken.replace(/[ \t]*\n\s*/g, ' ').replace(INVISIBLE, (c) => (c === '\t' ? ' ' : ''));
}

/** Length of the longest run of backticks in `text` (0 when none). */
export const longestBacktickRun = (text: string): number =>
  Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));

/** A Markdown code fence around cleaned `text`: its backtick run is longer than any inside, so nothing in it closes it. */
export function fenceBlock(text: string): string {
  const clean = cleanText(text, { lines: true });
  const run = '`'.repeat(Math.max(3, longestBacktickRun(clean) + 1));
  return `${run}\n${clean}\n${run}`;
}

// GitLab user and group references (`@alice`, `@acme/devs`, `@all`) and its default issue closing pattern
// (docs.gitlab.com/administration/issue_closing_pattern/): a keyword, an optional colon, spaces, then issue
// references (`#1`, `acme/api#2`, a URL, a Jira-style `ABC-12`) joined by `,` / `and`.
const MENTION = String.raw`(?<![\w\x60])(?<mention>@[A-Za-z0-9_][A-Za-z0-9_./-]*)`;
const ISSUE_REF = String.raw`(?:[\w./-]*#\d+|https?://[^\s\x60]+|[A-Z][A-Z0-9_]+-\d+)`;
const CLOSING =
  String.raw`\b(?<keyword>(?:[Cc]los(?:e[sd]?|ing)|[Ff]ix(?:e[sd]|ing)?|[Rr]esolv(?:e[sd]?|ing)|[Ii]mplement(?:s|ed|ing)?):? +(?:issues? +)?)` +
  `(?<refs>${ISSUE_REF}(?:(?: *,? +and +| *,? *)${ISSUE_REF})*)`;
const MENTIONS = new RegExp(MENTION, 'g');
const MENTIONS_AND_CLOSING = new RegExp(`${CLOSING}|${MENTION}`, 'g');

/**
 * Cleaned `text` (one line unless `lines`) in which no `@mention` pings and, with `closing` (commit
 * messages, where GitLab acts on them), no `Closes #1` / `Fixes acme/api#2` closes an issue: the mention,
 * or the references after the keyword, become a code span (GitLab extracts neither mentions nor references
 * from code). The span's backtick run is longer than any in the text, so it never pairs with one of them.
 */
export function neutralizeReferences(
  text: string,
  { closing = false, lines = false }: { closing?: boolean; lines?: boolean } = {},
): string {
  const clean = cleanText(text, { lines });
  const run = '`'.repeat(longestBacktickRun(clean) + 1);
  return clean.replace(closing ? MENTIONS_AND_CLOSING : MENTIONS, (match: string, ...rest: unknown[]) => {
    const { keyword, refs, mention } = rest.at(-1) as Record<string, string | undefined>;
    const offset = rest.at(-3) as number;
    // A backtick right after the span would lengthen its closing run.
    const pad = clean[offset + match.length] === '`' ? ' ' : '';
    return mention !== undefined ? `${run}${mention}${run}${pad}` : `${keyword}${run}${refs}${run}${pad}`;
  });
}

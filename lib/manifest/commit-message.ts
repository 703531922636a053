/**
 * The message of every manifest commit: a subject from the configured template (default
 * `deploy({app}/{env}): {image}:{tag}`), a blank line, and `Fjord-*` trailers naming the job, the reason,
 * the source commit and MR and the author, so the manifest history answers "who deployed what, and why".
 */
import { cleanText, neutralizeReferences } from '../grammar.js';
import type { DeployJob } from '../job.js';
import { InvalidCommitMessage } from './store-errors.js';
import { formatTrailers } from './trailers.js';

export const DEFAULT_COMMIT_TEMPLATE = 'deploy({app}/{env}): {image}:{tag}';
export const MESSAGE_PLACEHOLDERS = ['app', 'env', 'image', 'tag', 'sha', 'shortSha', 'reason'] as const;
/** GitLab's `short_id` length. */
export const SHORT_SHA_LENGTH = 8;

export type MessageJob = Pick<DeployJob, 'id' | 'app' | 'environment' | 'image' | 'tag' | 'sha' | 'reason'> & {
  source: Pick<DeployJob['source'], 'project' | 'mr' | 'author'>;
};

const PLACEHOLDER = /\{([^{}]*)\}/g;
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/** Placeholders in `template` that the builder does not know (for `fjord config check`). */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)]
    .map((m) => m[1]!)
    .filter((p) => !(MESSAGE_PLACEHOLDERS as readonly string[]).includes(p));
}

/** The `Fjord-*` trailers of a job, in a fixed order; `extra` (e.g. `Fjord-Rollback-Of`) comes last. */
export function jobTrailers(job: MessageJob, extra: Record<string, string> = {}): Array<[string, string]> {
  const { project, mr, author } = job.source;
  const list: Array<[string, string | undefined]> = [
    ['Fjord-Job', job.id],
    ['Fjord-Reason', job.reason],
    ['Fjord-App', job.app],
    ['Fjord-Environment', job.environment],
    ['Fjord-Image', job.image],
    ['Fjord-Tag', job.tag],
    ['Fjord-Source', job.sha ? (project ? `${project}@${job.sha}` : job.sha) : undefined],
    ['Fjord-MR', mr !== undefined && project ? `${project}!${mr}` : undefined],
    // Webhook text: cleaned, and an `@name` or `Closes #1` in it neither pings nor closes anything.
    ['Fjord-Author', author === undefined ? undefined : neutralizeReferences(author, { closing: true })],
    ...Object.entries(extra),
  ];
  return list.filter((t): t is [string, string] => t[1] !== undefined && t[1] !== '');
}

/** Builds the commit message for `job`. Throws `InvalidCommitMessage` on an unknown placeholder or a
 *  value with a newline (values are grammar-checked before a job exists; this is the second fence). */
export function buildCommitMessage(
  job: MessageJob,
  {
    template = DEFAULT_COMMIT_TEMPLATE,
    trailers = {},
    body,
  }: { template?: string; trailers?: Record<string, string>; body?: string } = {},
): string {
  const unknown = unknownPlaceholders(template);
  if (unknown.length > 0)
    throw new InvalidCommitMessage(
      `commit message template: unknown placeholder {${unknown.join('}, {')}}; known: {${MESSAGE_PLACEHOLDERS.join('}, {')}}`,
    );
  const values: Record<(typeof MESSAGE_PLACEHOLDERS)[number], string> = {
    app: job.app,
    env: job.environment,
    image: job.image,
    tag: job.tag,
    sha: job.sha ?? '',
    shortSha: (job.sha ?? '').slice(0, SHORT_SHA_LENGTH),
    reason: job.reason,
  };
  for (const [name, value] of Object.entries(values)) {
    if (UNSAFE.test(value))
      throw new InvalidCommitMessage(`commit message: {${name}} contains a newline or control character`);
  }
  const subject = template.replace(PLACEHOLDER, (_, name: keyof typeof values) => values[name]).trim();
  if (subject === '') throw new InvalidCommitMessage('commit message template renders an empty subject');
  return `${subject}\n\n${body ? `${commitBody(body)}\n\n` : ''}${formatTrailers(jobTrailers(job, trailers))}\n`;
}

/**
 * Free text between the subject and the trailers (what a failed host said), cleaned like all outside text
 * (`cleanText`), mentions and closing patterns neutralised, blank lines dropped (so it stays one paragraph,
 * never read as trailers), at most 6,000 characters.
 */
export function commitBody(text: string): string {
  const lines = neutralizeReferences(cleanText(text, { lines: true }), { closing: true, lines: true })
    .split('\n')
    .filter((l) => l.trim() !== '');
  const out = lines.join('\n');
  return out.length > 6000 ? `${out.slice(0, 6000)}\n…` : out;
}

/**
 * The chat message of a finished job, in Slack mrkdwn (api.slack.com/reference/surfaces/formatting):
 * outcome emoji and word, app → environment, image:tag, how long since the webhook, the MR and the manifest
 * commit as links, and on failure the failing host and step. `&`, `<`, `>` are escaped as Slack requires.
 */
import { neutralizeReferences } from '../grammar.js';
import type { DeployJob } from '../job.js';
import type { RolloutReport } from '../rollout/types.js';
import type { Outcome } from '../worker/outcome.js';
import type { FeedbackLinks } from './links.js';
import { elapsed } from './render-timeline.js';
import { secretChanges } from './secret-changes.js';
import type { Timeline } from './timeline.js';

const EMOJI: Record<string, string> = {
  deployed: ':white_check_mark:',
  noop: ':white_check_mark:',
  received: ':information_source:',
  superseded: ':fast_forward:',
  proposed: ':memo:',
  held: ':double_vertical_bar:',
  failed: ':x:',
};
const WORD: Record<string, string> = { noop: 'no change' };

export function renderChatText(
  job: DeployJob,
  outcome: Outcome,
  { links, timeline }: { links: FeedbackLinks; timeline?: Timeline },
): string {
  const took = timeline ? ` in ${elapsed(timeline.entries.at(-1)!.at - timeline.receivedAt)}` : '';
  const lines = [
    `${EMOJI[outcome.status] ?? ':grey_question:'} *${WORD[outcome.status] ?? outcome.status}*${took} · \`${esc(job.app)}\` → *${esc(job.environment)}* · \`${esc(`${job.image}:${job.tag}`)}\``,
  ];
  const refs: string[] = [];
  const mr = links.mergeRequest(job);
  if (mr)
    refs.push(
      job.source.provider === 'github'
        ? `PR ${link(mr, `${job.source.project}#${job.source.mr}`)}`
        : `MR ${link(mr, `${job.source.project}!${job.source.mr}`)}`,
    );
  const commitId = typeof outcome.commitId === 'string' ? outcome.commitId : undefined;
  if (commitId) refs.push(`manifest commit ${link(links.manifestCommit(commitId), commitId.slice(0, 12))}`);
  if (refs.length) lines.push(refs.join(' · '));
  const failed = (outcome.rollout as RolloutReport | undefined)?.failed;
  if (failed) lines.push(`failed on \`${esc(failed.host)}\` at \`${failed.step}\`: ${esc(firstLine(failed.message))}`);
  else if (outcome.detail) lines.push(esc(firstLine(outcome.detail)));
  const secrets = outcome.rollout ? secretChanges(outcome.rollout as RolloutReport) : [];
  if (secrets.length) lines.push(`secrets: ${esc(secrets.join(' · '))}`);
  const mixed = (outcome.rollout as RolloutReport | undefined)?.mixedVersions;
  if (mixed) lines.push(`:warning: ${esc(firstLine(mixed))}`);
  else if (outcome.status === 'failed' && outcome.rollbackCommitId && typeof outcome.previousTag === 'string')
    lines.push(`hosts and manifest are back on \`${esc(outcome.previousTag)}\``);
  return lines.join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const link = (url: string | undefined, text: string): string =>
  url ? `<${esc(url)}|${esc(text).replace(/\|/g, '¦')}>` : `\`${esc(text)}\``;
// Outside text (an error quoting a host or a webhook): its first line, cleaned, and no `@name` (`@channel` in
// Mattermost and Rocket.Chat) pings. Slack's code spans are single backticks only, so the text's own become `'`.
const firstLine = (s: string): string => {
  const line = s.split(/\r?\n/)[0]!.trim();
  return neutralizeReferences((line.length > 300 ? `${line.slice(0, 299)}…` : line).replace(/`/g, "'"));
};

/**
 * The plan note (issue 7, item 3), as GitLab-flavoured Markdown: per environment the manifest diff, the
 * batches and what each host runs now. Pure. The hidden marker `<!-- fjord-plan:<app> -->` differs from the
 * deploy note's `<!-- fjord:<app>/<env>/<sha> -->`, so a later plan edits this note and never the deploy note.
 */
import { neutralizeReferences } from '../grammar.js';
import type { HostDrift } from '../reconcile/classify-host.js';
import { describeKeyChanges } from '../secrets/key-changes.js';
import type { EnvironmentPlan, ImageCheck, Plan } from './types.js';

export const planMarker = (app: string): string => `<!-- fjord-plan:${app} -->`;

/** The whole note body. */
export function renderPlan(plan: Plan): string {
  const names = plan.environments.map((e) => code(e.environment)).join(', ');
  const lines = [
    planMarker(plan.app),
    `### 📋 fjord plan: merging deploys ${code(plan.app)} to ${names || 'no environment'}`,
    '',
  ];
  lines.push(
    `Image ${code(`${plan.image}:${plan.tag}`)} from head commit ${code(plan.sha.slice(0, 8))}: ${imageLine(plan.imageCheck)}`,
  );
  // With a merge commit the deployed sha is that commit's, not the head's (fast-forward and rebase merges keep it).
  if (/\{(sha|shortSha)\}/.test(plan.template))
    lines.push('', `The tag is ${code(plan.template)} of the head commit; a merge commit deploys under its own tag.`);
  if (plan.environments.length === 0)
    lines.push('', `No environment of ${code(plan.app)} is deployed from ${code(plan.targetBranch)}.`);
  for (const env of plan.environments) lines.push('', ...renderEnvironment(env, plan.tag));
  const off = plan.environments.flatMap((e) => e.hosts).filter((h) => h.status !== 'in-sync');
  if (off.length > 0)
    lines.push(
      '',
      `⚠️ ${off.length} host(s) not in sync with the manifest now: ${off.map((h) => `${code(h.host)} ${h.status}`).join(', ')}.`,
    );
  lines.push(
    '',
    `<sub>fjord plan for ${code(plan.sha.slice(0, 8))} at ${plan.plannedAt}. Read-only: nothing was committed, locked or changed. Updated in place on every new push.</sub>`,
  );
  return lines.join('\n') + '\n';
}

function renderEnvironment(e: EnvironmentPlan, tag: string): string[] {
  const how =
    e.via === 'direct'
      ? 'deployed by the merge'
      : e.via === 'auto'
        ? `promoted automatically once ${code(e.from!)} is healthy`
        : `proposed as a manifest merge request once ${code(e.from!)} is healthy`;
  const out = [`#### ${code(e.environment)} · ${how}`, ''];
  const write = e.writeBack === 'mr' ? 'through a manifest merge request' : 'committed to the manifest branch';
  if (e.error) out.push(`⚠️ Manifest ${code(e.file)} cannot be edited: ${oneLine(e.error)}`);
  else if (!e.diff)
    out.push(
      `Manifest ${code(e.file)} already says ${code(e.currentTag ?? '?')}: no manifest change; the rollout only converges the hosts.`,
    );
  else
    out.push(
      `Manifest ${code(e.file)}, ${write}: ${code(e.currentTag ?? 'no tag')} → ${code(tag)}`,
      '',
      ...fenced('diff', e.diff),
    );
  out.push('');
  const size = typeof e.batchSize === 'number' ? `${e.batchSize} host(s)` : `${e.batchSize} of the hosts`;
  if (e.batches.length === 0) return [...out, 'No hosts: the manifest commit is the deploy.'];
  out.push(
    `Rollout: strategy ${code(e.strategy)}, ${e.batches.length} batch(es) of ${size}${e.canary ? ', the first host alone as a canary' : ''}.`,
    '',
  );
  const withFiles = e.hosts.some((h) => h.files?.length);
  out.push(
    `| batch | host | running now | drift |${withFiles ? ' files the rollout changes |' : ''}`,
    `| --- | --- | --- | --- |${withFiles ? ' --- |' : ''}`,
  );
  const byHost = new Map(e.hosts.map((h) => [h.host, h]));
  e.batches.forEach((batch, i) => {
    for (const host of batch)
      out.push(row(i + 1, host, byHost.get(host)) + (withFiles ? ` ${cell(filesCell(byHost.get(host)))} |` : ''));
  });
  if (e.secrets) out.push('', secretsLine(e.secrets));
  return out;
}

function row(batch: number, host: string, h: HostDrift | undefined): string {
  const running = h?.running ? code(h.running) : '–';
  return `| ${batch} | ${code(host)} | ${cell(running)} | ${cell(h ? driftText(h) : '– (not read)')} |`;
}

/** `nginx/nginx.conf` drifted → reload, `app.ini` missing → restart; `–` when every file is as git says. */
function filesCell(h: HostDrift | undefined): string {
  const off = (h?.files ?? []).filter((f) => f.status !== 'in-sync');
  if (!off.length) return '–';
  const means = { reload: 'reload', restart: 'restart of the app', none: 'no reload' } as const;
  return off
    .map((f) => `${code(f.target)} ${f.status === 'extra' ? 'removed' : f.status} → ${means[f.onChange]}`)
    .join(', ');
}

function driftText(h: HostDrift): string {
  switch (h.status) {
    case 'in-sync':
      return '✅ in sync';
    case 'drifted':
      return h.running === h.desired
        ? '⚠️ drifted: managed files differ from git'
        : `⚠️ drifted: the manifest says ${code(h.desired ?? '?')}`;
    case 'missing':
      return `⚠️ missing${h.state ? ` (container ${h.state})` : ' (nothing running)'}`;
    case 'unreachable':
      return `❌ unreachable: ${h.errorName ?? 'Error'}: ${oneLine(h.error ?? '').slice(0, 200)}`;
  }
}

function secretsLine(s: NonNullable<EnvironmentPlan['secrets']>): string {
  if (s.error) return `⚠️ Secrets ${code(s.file)} cannot be read: ${oneLine(s.error)}`;
  const byChange = new Map<string, string[]>();
  for (const h of s.hosts) {
    const what = h.changes ? describeKeyChanges(h.changes) : 'not read';
    byChange.set(what, [...(byChange.get(what) ?? []), code(h.host)]);
  }
  return `Secrets ${code(s.file)} (names only): ${[...byChange].map(([what, hosts]) => `${hosts.join(', ')}: ${what}`).join(' · ')}.`;
}

function imageLine(c: ImageCheck): string {
  if (c.status === 'found') return '✅ already in the registry.';
  if (c.status === 'missing') return '⏳ not in the registry yet: the deploy waits for CI to push it.';
  if (c.status === 'unknown') return `❔ the registry could not say (${oneLine(c.detail ?? '')}).`;
  return 'not checked (`waitForImage: 0`).';
}

/** A fenced block whose fence is longer than any backtick run inside, so no content can close it early. */
function fenced(lang: string, text: string): string[] {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [fence + lang, text, fence];
}

const oneLine = (s: string): string => neutralizeReferences(s);
const cell = (s: string): string => oneLine(s).replace(/\|/g, '\\|');
const code = (s: string): string => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);

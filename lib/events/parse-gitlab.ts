/**
 * GitLab webhook bodies → SourceEvent. zod schemas hold only the fields fjord uses, in the shape GitLab
 * documents (doc/user/project/integrations/webhook_events.md); everything else in the body is ignored.
 */
import { parseGitlabNote } from './parse-gitlab-note.js';
import * as z from 'zod';
import { isNullSha, isoTime, parseRef, parseShape, quote, type Ignored, type SourceEvent } from './event.js';
import { openMergeRequest, PLAN_ACTIONS } from './parse-gitlab-plan.js';

const project = z.object({ path_with_namespace: z.string() });
const user = z.object({ name: z.string().nullish(), username: z.string().nullish() }).nullish();

const pushHook = z.object({
  object_kind: z.enum(['push', 'tag_push']),
  ref: z.string(),
  after: z.string(),
  before: z.string().nullish(),
  checkout_sha: z.string().nullish(),
  user_name: z.string().nullish(),
  project,
  commits: z.array(z.object({ id: z.string(), timestamp: z.string().nullish() })).nullish(),
});

// Read first, so that MR actions fjord does not act on are ignored whatever else their body holds.
const mergeRequestAction = z.object({ object_attributes: z.object({ action: z.string().nullish() }) });
const mergeRequestHook = z.object({
  object_kind: z.literal('merge_request'),
  user,
  project,
  object_attributes: z.object({
    iid: z.number().int().positive(),
    target_branch: z.string(),
    merge_commit_sha: z.string().nullish(),
    last_commit: z.object({ id: z.string() }).nullish(),
    updated_at: z.string().nullish(),
  }),
});

const pipelineStatus = z.object({ object_attributes: z.object({ status: z.string(), source: z.string().nullish() }) });
const pipelineHook = z.object({
  object_kind: z.literal('pipeline'),
  object_attributes: z.object({
    ref: z.string(),
    tag: z.boolean().nullish(),
    sha: z.string(),
    before_sha: z.string().nullish(),
    created_at: z.string().nullish(),
  }),
  merge_request: z.object({ iid: z.number().int().positive() }).nullish(),
  commit: z.object({ timestamp: z.string().nullish() }).nullish(),
  user,
  project,
});

/** `X-Gitlab-Event` values fjord reads; `System Hook` bodies are told apart by `object_kind`. */
const KINDS: Record<string, string> = {
  'Push Hook': 'push',
  'Tag Push Hook': 'tag_push',
  'Merge Request Hook': 'merge_request',
  'Pipeline Hook': 'pipeline',
  'Note Hook': 'note',
};

/** Whether a body with this `X-Gitlab-Event` header is worth parsing at all. */
export function gitlabEventIsRead(header: string | undefined): boolean {
  return header === undefined || header === 'System Hook' || header in KINDS;
}

/** Parses a GitLab webhook body (already JSON-parsed) given its `X-Gitlab-Event` header. */
export function parseGitlab(header: string | undefined, payload: unknown): SourceEvent | Ignored {
  const kind = header !== undefined && header in KINDS ? KINDS[header] : objectKind(payload);
  // System Hooks also report instance events (users, groups, keys) that name no project: nothing to deploy.
  if (header === 'System Hook' && !hasProject(payload))
    return { ignored: `GitLab System Hook ${quote(kind ?? eventName(payload) ?? 'event')} names no project` };
  switch (kind) {
    case 'push':
    case 'tag_push':
      return push(payload);
    case 'merge_request':
      return mergeRequest(payload);
    case 'pipeline':
      return pipeline(payload);
    case 'note':
      return parseGitlabNote(payload);
    default:
      return { ignored: `GitLab event ${quote(header ?? kind ?? 'unknown')} is not one fjord acts on` };
  }
}

function hasProject(payload: unknown): boolean {
  const project = (payload as { project?: unknown } | null)?.project;
  return typeof project === 'object' && project !== null;
}

function eventName(payload: unknown): string | undefined {
  const name = (payload as { event_name?: unknown } | null)?.event_name;
  return typeof name === 'string' ? name : undefined;
}

function objectKind(payload: unknown): string | undefined {
  const kind = (payload as { object_kind?: unknown } | null)?.object_kind;
  return typeof kind === 'string' ? kind : undefined;
}

function push(payload: unknown): SourceEvent | Ignored {
  const p = parseShape(pushHook, payload);
  const ref = parseRef(p.ref);
  if (!ref) return { ignored: `push to ${quote(p.ref)}: neither a branch nor a tag` };
  if (isNullSha(p.after)) return { ignored: `${ref.type} ${quote(ref.name)} deleted` };
  // checkout_sha is the commit even when `after` is an annotated tag object.
  const shaPath = p.checkout_sha ? 'checkout_sha' : 'after';
  return {
    provider: 'gitlab',
    trigger: 'push',
    project: p.project.path_with_namespace,
    ref,
    sha: p.checkout_sha ?? p.after,
    author: p.user_name ?? undefined,
    committedAt: isoTime(
      (p.commits ?? []).find((c) => c.id === (p.checkout_sha ?? p.after))?.timestamp ?? p.commits?.at(-1)?.timestamp,
    ),
    ...(p.before ? { before: p.before } : {}),
    paths: { project: 'project.path_with_namespace', ref: 'ref', sha: shaPath, author: 'user_name' },
    payload,
  };
}

function mergeRequest(payload: unknown): SourceEvent | Ignored {
  const action = parseShape(mergeRequestAction, payload).object_attributes.action;
  if (action && PLAN_ACTIONS.has(action)) return openMergeRequest(payload, action);
  if (action !== 'merge')
    return {
      ignored: `merge request action ${quote(action ?? 'none')}: fjord acts on merge (deploy) and open, reopen, update (plan)`,
    };
  const p = parseShape(mergeRequestHook, payload);
  const a = p.object_attributes;
  // merge_commit_sha is null on fast-forward merges: the target branch then points at the last commit.
  const merged = a.merge_commit_sha ?? undefined;
  return {
    provider: 'gitlab',
    trigger: 'merge',
    project: p.project.path_with_namespace,
    ref: { type: 'branch', name: a.target_branch },
    sha: merged ?? a.last_commit?.id,
    mr: a.iid,
    author: p.user?.name ?? p.user?.username ?? undefined,
    // The merge event is sent when the merge happens: its updated_at is the merge time.
    committedAt: isoTime(a.updated_at),
    paths: {
      project: 'project.path_with_namespace',
      ref: 'object_attributes.target_branch',
      sha: merged ? 'object_attributes.merge_commit_sha' : 'object_attributes.last_commit.id',
      mr: 'object_attributes.iid',
      author: p.user?.name ? 'user.name' : 'user.username',
    },
    payload,
  };
}

function pipeline(payload: unknown): SourceEvent | Ignored {
  const status = parseShape(pipelineStatus, payload).object_attributes;
  if (status.status !== 'success') return { ignored: `pipeline status ${quote(status.status)}, not success` };
  // A merge request pipeline runs code that is not merged yet.
  if (status.source === 'merge_request_event') return { ignored: 'merge request pipeline (not merged code)' };
  const p = parseShape(pipelineHook, payload);
  const a = p.object_attributes;
  return {
    provider: 'gitlab',
    trigger: 'pipeline',
    project: p.project.path_with_namespace,
    ref: { type: a.tag ? 'tag' : 'branch', name: a.ref },
    sha: a.sha,
    mr: p.merge_request?.iid,
    author: p.user?.name ?? p.user?.username ?? undefined,
    // Pipelines may finish out of order; when each was created orders them: the branch pointed at its sha
    // then, so a new pipeline for an older commit (a reset, "Run pipeline") is newer (issue 12, item 3).
    committedAt: isoTime(a.created_at) ?? isoTime(p.commit?.timestamp),
    ...(a.before_sha ? { before: a.before_sha } : {}),
    paths: {
      project: 'project.path_with_namespace',
      ref: 'object_attributes.ref',
      sha: 'object_attributes.sha',
      mr: 'merge_request.iid',
      author: p.user?.name ? 'user.name' : 'user.username',
    },
    payload,
  };
}

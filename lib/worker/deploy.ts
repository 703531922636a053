/**
 * The deploy pipeline of one job (DESIGN.md "Flow", steps 1–4): read the manifest; stop early when a newer
 * deploy is recorded; wait for the image; commit the tag edit with the optimistic lock (or open a merge
 * request for `writeBack: mr`); roll it out over SSH; on failure put the manifest back ("rollback: …")
 * after the engine put every touched host back; on success promote downstream environments. Converge
 * and heal jobs roll the fleet to what the file already says, without a commit. Every port is handed in,
 * so the embedded process, Lambda and the CLI run the same code.
 */
import type { Config, EnvironmentConfig } from '../config/schema.js';
import { FjordError } from '../errors.js';
import type { DeployJob } from '../job.js';
import type { DeployPorts } from './ports.js';
import { bumpTag, readTag } from '../manifest/index.js';
import { buildCommitMessage } from '../manifest/commit-message.js';
import { commitWithRetry } from '../manifest/commit-with-retry.js';
import { ManifestConflict, ManifestStoreError } from '../manifest/store-errors.js';
import { mergeRequestBranch, type ManifestStore } from '../manifest/store.js';
import { RegistryUnavailable } from '../registry/errors.js';
import type { RolloutReport } from '../rollout/types.js';
import { formatDiagnostics } from '../rollout/format-diagnostics.js';
import { recordRollout } from '../notify/record-stages.js';
import { RetryableError, type Outcome } from './outcome.js';
import { isMergedProposal, promote, PROMOTING_REASONS, type Promotion } from './promote.js';
import { refusedOutcome } from './refuse-job.js';
import {
  DELIVERY_TRAILER,
  INTENT_TIME_TRAILER,
  orderJob,
  SOURCE_TIME_TRAILER,
  type Supersession,
} from './superseded.js';
import { WRITE_BACK_TRAILER } from '../manifest/trailers.js';
import type { JobContext } from './worker-loop.js';
import { decryptAppSecrets } from '../secrets/load-app-secrets.js';
import { loadDesiredFiles } from '../files/load-desired-files.js';
import { GateParked, GateSuperseded, passGates } from '../gates/gate.js';
import { heldOutcome, HELD_TRAILER, holdAfterRollback, holdOf } from '../holds/held-deploy.js';

/** The environment a job names, or undefined when fjord.yaml no longer has it. */
export function environmentOf(
  config: Config,
  job: Pick<DeployJob, 'app' | 'environment'>,
): EnvironmentConfig | undefined {
  return config.apps[job.app]?.environments[job.environment];
}

const ROLLBACK_TEMPLATE = 'rollback({app}/{env}): {image}:{tag}';

class SupersededWhileWaiting extends Error {}

export async function deploy(order: DeployJob, ctx: JobContext, ports: DeployPorts): Promise<Outcome> {
  const { config, store } = ports;
  const env = environmentOf(config, order);
  const app = config.apps[order.app];
  if (!env || !app)
    return { status: 'failed', detail: `fjord.yaml has no environment ${order.app}/${order.environment}` };
  // The image is fjord.yaml's, whatever the job says (a queued job naming another one is refused before
  // this: refuse-job.ts): the wait, the commit's Fjord-Image trailer and the rollout name what really runs.
  const job: DeployJob = { ...order, image: app.image };
  const target = env.manifest;
  const timeline = ctx.timeline;
  try {
    timeline?.begin('manifest read');
    const file = await store.read(target.file);
    const current = readTag(file.content, target);
    // Held (lib/holds): a merge is still committed, but nothing rolls out until a person releases it.
    const hold = await holdOf(store, job);
    if (hold && (job.reason === 'converge' || job.reason === 'heal')) return heldOutcome(job, hold, { tag: current });
    // Decrypted before anything is committed or changed: a wrong identity or a broken file fails here.
    const secrets =
      env.secrets && ports.rollout && env.hosts.length
        ? await decryptAppSecrets(env.secrets, (await store.read(env.secrets.file)).content, ports.ageIdentities ?? [])
        : undefined;
    ports = secrets ? { ...ports, secrets } : ports;
    const files =
      ports.rollout && env.hosts.length
        ? await loadDesiredFiles(config, store, job.app, job.environment, env)
        : undefined;
    ports = files ? { ...ports, files } : ports;
    if (job.reason === 'converge' || job.reason === 'heal') {
      if (!current) return { status: 'failed', detail: `${target.file} names no tag to converge to` };
      const [head] = job.reason === 'converge' ? await store.history(target.file, { limit: 1 }) : [];
      return await rollOut({ ...job, tag: current }, env, ctx, ports, {
        converge: true,
        mergedProposal: isMergedProposal(head, job, current),
      });
    }
    const edit = (tag: string) => (content: string) => {
      const r = bumpTag(content, target, tag);
      return r.changed ? r.text : null;
    };
    if (current === job.tag) {
      // A redelivery (the worker died after the commit) finds its own commit at the head: it finishes the
      // rollout and, when that fails, owns the manifest's rollback too, as the first delivery would have.
      const [head, before] = await store.history(target.file, { limit: 2 });
      const own =
        head && head.trailers['Fjord-Job'] === job.id && !head.trailers['Fjord-Rollback-Of'] ? head : undefined;
      if (hold && (!own || own.trailers[HELD_TRAILER]))
        return heldOutcome(job, hold, { tag: current, ...(own ? { commitId: own.commitId } : {}) });
      // Its own commit, on a second or later attempt: the attempt that committed died or failed before its
      // answer, so this one reports `deployed` and promotes as that one would have. A fresh delivery of a job
      // that already finished (a late duplicate), or anyone else's commit at this tag, is a no-op.
      const outcome = await rollOut(job, env, ctx, ports, { converge: !(own && ctx.attempts > 1) });
      if (!own || outcome.status !== 'failed') return own ? { ...outcome, commitId: own.commitId } : outcome;
      const previous = before ? readTag(await store.readAt(target.file, before.commitId), target) : undefined;
      return await restoreManifest(job, outcome, {
        store,
        file: target.file,
        previous,
        commitId: own.commitId,
        edit,
        ctx,
        hold: env.rollout.holdAfterRollback,
      });
    }
    const history = await store.history(target.file, { limit: 50 });
    // A redelivery of a job that already failed and was rolled back (its worker died before the ack).
    const undone = history.find((e) => e.trailers['Fjord-Rollback-Of'] === job.id);
    // Its worker may have died between the rollback commit and the hold: hold now (kept when already held).
    if (undone && env.rollout.holdAfterRollback) await holdAfterRollback(store, job, undone.commitId);
    if (undone)
      return {
        status: 'failed',
        detail: `this job already failed; its rollback is ${undone.commitId.slice(0, 12)} (${undone.message.split('\n')[0]})`,
        rollbackCommitId: undone.commitId,
      };
    const order = orderJob(job, history);
    if (order.superseded) return { status: 'superseded', detail: supersededDetail(order.superseded) };
    const moved = order.unlessMoved && (await ports.branchHead?.(job));
    if (moved && moved !== job.sha)
      return {
        status: 'superseded',
        detail: `${supersededDetail(order.unlessMoved!)}; branch ${job.source.ref} has moved on to ${moved.slice(0, 12)} since this push`,
      };
    if (app.waitForImage > 0) {
      timeline?.begin('image wait');
      try {
        await ports.waitForImage(
          { image: job.image, tag: job.tag },
          {
            deadlineMs: app.waitForImage,
            signal: ctx.signal,
            heartbeat: async () => {
              // Only the newest deploy of an environment waits for its image (issue 12, item 7).
              if (ctx.newerWaiting?.()) throw new SupersededWhileWaiting();
              await ctx.heartbeat();
            },
          },
        );
      } catch (err) {
        if (err instanceof SupersededWhileWaiting)
          return {
            status: 'superseded',
            detail: `a newer deploy of ${job.app}/${job.environment} is queued; stopped waiting for ${job.image}:${job.tag}`,
          };
        // A stopping worker (SIGTERM) hands the job back at once instead of waiting out the deadline.
        if (ctx.signal.aborted)
          throw new RetryableError('worker stopping: job handed back while waiting for its image', 0, { cause: err });
        throw err;
      }
      ctx.logger.info('image found', { image: job.image, tag: job.tag });
      timeline?.mark('image-found', `image found: ${job.image}:${job.tag}`);
    }
    // The platform's API, not the webhook, says the MR is merged and the sha is on the branch (issue 12, item 4).
    const unconfirmed = await ports.confirmSource?.(job);
    if (unconfirmed) {
      ctx.logger.warn('job refused', { detail: unconfirmed });
      return refusedOutcome(unconfirmed);
    }
    // Gates (freezes) right before the commit: a held job goes back to its queue (GateWait), nothing committed.
    const gated = await passGates(job, ports);
    timeline?.begin('manifest commit');
    const trailers = {
      ...recordedOrder(job, order.sourceTime),
      ...gated,
      ...(hold ? { [HELD_TRAILER]: `since ${hold.since}` } : {}),
    };
    const viaMr = (env.writeBack ?? config.manifest.writeBack) === 'mr';
    // A proposed commit is rolled out only once merged (converge): the trailer tells its push from a commit fjord rolled out itself.
    const message = buildCommitMessage(job, {
      template: config.manifest.commitMessage,
      trailers: viaMr ? { ...trailers, [WRITE_BACK_TRAILER]: 'mr' } : trailers,
    });
    if (viaMr) {
      const content = edit(job.tag)(file.content);
      if (content === null) return { status: 'noop', detail: `${target.file} already at ${job.tag}` };
      const mr = await store.openMergeRequest({
        file: target.file,
        content,
        message,
        title: message.split('\n')[0]!,
        sourceBranch: mergeRequestBranch(job.app, job.environment, job.tag),
        baseCommitId: file.headId,
      });
      return {
        status: 'proposed',
        detail: `merge request ${mr.webUrl ?? mr.sourceBranch}; merging it converges the fleet`,
        mergeRequest: mr,
      };
    }
    const result = await commitWithRetry(store, target.file, edit(job.tag), message, {
      onConflict: (_e, attempt) => ctx.logger.info('manifest changed under us; re-reading', { attempt }),
    });
    ctx.logger.info('manifest committed', { file: target.file, commit: result.commitId, from: current, to: job.tag });
    timeline?.mark(
      'committed',
      `manifest committed: ${target.file} ${current ?? '(none)'} → ${job.tag} (${result.commitId.slice(0, 12)})`,
    );
    if (hold) return heldOutcome(job, hold, { tag: job.tag, commitId: result.commitId, previousTag: current });
    const outcome = await rollOut(job, env, ctx, ports, { converge: false });
    if (outcome.status !== 'failed') return { ...outcome, commitId: result.commitId, previousTag: current };
    return await restoreManifest(job, outcome, {
      store,
      file: target.file,
      previous: current,
      commitId: result.commitId,
      edit,
      ctx,
      hold: env.rollout.holdAfterRollback,
    });
  } catch (err) {
    // Transient: the worker puts the job back with back-off. Everything else named is final and reported.
    if (
      err instanceof ManifestConflict ||
      (err instanceof ManifestStoreError && err.transient) ||
      err instanceof RegistryUnavailable
    ) {
      throw new RetryableError(err.message, 10, { cause: err });
    }
    // `/fjord deploy` to an environment needing approvals: recorded, and sent again once approved.
    if (err instanceof GateParked) return { status: 'waiting', detail: err.reason };
    if (err instanceof GateSuperseded) return { status: 'superseded', detail: err.reason };
    if (err instanceof FjordError) return { status: 'failed', detail: err.message, error: err.name };
    throw err;
  }
}

/** What a deploy commit records so later decisions can be made from git alone: ordering and the delivery. */
function recordedOrder(job: DeployJob, sourceTime: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (sourceTime) out[SOURCE_TIME_TRAILER] = sourceTime;
  // `fjord deploy` / `fjord rollback` go back on purpose: events whose source is older do not undo them.
  if (job.reason === 'manual' || job.reason === 'rollback') out[INTENT_TIME_TRAILER] = job.enqueuedAt;
  if (job.source.deliveryId && /^[A-Za-z0-9._:-]{1,200}$/.test(job.source.deliveryId))
    out[DELIVERY_TRAILER] = job.source.deliveryId;
  // `/fjord deploy|rollback` (lib/commands): the commenter, whose permission was checked through the API.
  if (job.command) out['Fjord-Requested-By'] = `${job.command.user.username} (${job.source.provider})`;
  return out;
}

function supersededDetail(s: Supersession): string {
  const at = s.commitId.slice(0, 12);
  if (s.kind === 'replay')
    return `a replay of a delivery already deployed in ${at} (${s.tag ?? '?'}); what happened since (a rollback, a newer deploy) stands`;
  if (s.kind === 'intent')
    return `${s.tag ?? '?'} was set on purpose at ${s.sourceTime} (${at}), after this job's source commit`;
  return `a newer deploy (${s.tag ?? '?'}, source time ${s.sourceTime}) is already recorded in ${at}`;
}

/** After a failed rollout (the engine put the hosts back), puts the manifest back too, so Git still says what runs. */
async function restoreManifest(
  job: DeployJob,
  outcome: Outcome,
  o: {
    store: ManifestStore;
    file: string;
    previous: string | undefined;
    commitId: string;
    edit: (tag: string) => (content: string) => string | null;
    ctx: JobContext;
    hold: boolean;
  },
): Promise<Outcome> {
  if (!o.previous)
    return {
      ...outcome,
      detail: `${outcome.detail}; the manifest had no previous tag to restore`,
      commitId: o.commitId,
    };
  const report = outcome.rollout as RolloutReport | undefined;
  // The failed host's own words (redacted diagnostics) go into the rollback commit: git is the record,
  // and the status page shows them from there.
  const failed = report?.failed;
  const diagnostics = failed && report?.hosts.find((h) => h.host === failed.host)?.diagnostics;
  const body = failed
    ? [
        `host ${failed.host} failed at ${failed.step}: ${failed.message}`,
        ...(diagnostics ? formatDiagnostics(diagnostics) : []),
      ].join('\n')
    : undefined;
  const rollbackMessage = buildCommitMessage(
    { ...job, reason: 'rollback', tag: o.previous },
    {
      template: ROLLBACK_TEMPLATE,
      ...(body ? { body } : {}),
      trailers: {
        'Fjord-Rollback-Of': job.id,
        ...(report?.failed ? { 'Fjord-Failed-Host': report.failed.host, 'Fjord-Failed-Step': report.failed.step } : {}),
      },
    },
  );
  o.ctx.timeline?.begin('manifest rollback');
  const reverted = await commitWithRetry(o.store, o.file, o.edit(o.previous), rollbackMessage);
  o.ctx.logger.warn('manifest rolled back', { file: o.file, commit: reverted.commitId, to: o.previous });
  o.ctx.timeline?.mark('restored', `manifest restored to ${o.previous} (${reverted.commitId.slice(0, 12)})`);
  if (o.hold) {
    await holdAfterRollback(
      o.store,
      job,
      reverted.commitId,
      failed ? `host ${failed.host} failed at ${failed.step}` : undefined,
    );
    o.ctx.logger.warn('environment held', { app: job.app, environment: job.environment });
  }
  return {
    ...outcome,
    detail: `${outcome.detail}; manifest restored to ${o.previous}`,
    commitId: o.commitId,
    rollbackCommitId: reverted.commitId,
    previousTag: o.previous,
  };
}

/** Rolls `job.tag` out to the environment's hosts; promotes downstream environments on success. */
async function rollOut(
  job: DeployJob,
  env: EnvironmentConfig,
  ctx: JobContext,
  ports: DeployPorts,
  { converge, mergedProposal = false }: { converge: boolean; mergedProposal?: boolean },
): Promise<Outcome> {
  let report: RolloutReport | undefined;
  if (ports.rollout && env.hosts.length > 0) {
    const record = ctx.timeline && recordRollout(ctx.timeline, job.tag, env);
    report = await ports.rollout(
      {
        app: job.app,
        environment: job.environment,
        image: job.image,
        tag: job.tag,
        jobId: job.id,
        env,
        hosts: env.hosts,
        ...(ports.secrets ? { secrets: ports.secrets } : {}),
        ...(ports.files ? { files: ports.files } : {}),
      },
      {
        signal: ctx.signal,
        onEvent: (e) => {
          ports.onRolloutEvent?.(e);
          record?.(e);
          if (e.type !== 'host-step' || e.status !== 'start') ctx.logger.info('rollout', { ...e });
        },
      },
    );
    if (!report.ok) {
      const f = report.failed;
      // Another deploy holds a host: nothing of ours stayed changed; try again later (the manifest already
      // says this tag, so the retry converges without a second commit).
      if (f?.errorName === 'LockHeld' && !report.mixedVersions) throw new RetryableError(`${f.host}: ${f.message}`, 15);
      // What each failed host's new container said, as data in the log line (already redacted).
      const diagnostics = Object.fromEntries(
        report.hosts.filter((h) => h.diagnostics).map((h) => [h.host, h.diagnostics]),
      );
      if (f)
        ctx.logger.error('rollout failed', {
          host: f.host,
          step: f.step,
          error: f.message,
          errorName: f.errorName,
          ...(Object.keys(diagnostics).length ? { diagnostics } : {}),
        });
      const where = f
        ? `host ${f.host} failed at ${f.step}: ${f.message}${f.stderrTail ? ` (stderr: ${f.stderrTail.slice(-300)})` : ''}`
        : 'rollout failed';
      const mixed = report.mixedVersions
        ? `; FLEET ON MIXED VERSIONS: ${report.mixedVersions}`
        : '; every touched host is back on its previous image';
      return { status: 'failed', detail: `${where}${mixed}`, rollout: report, tag: job.tag };
    }
  }
  const changed = report ? report.hosts.some((h) => h.status === 'updated') : false;
  // A merged proposal of an environment without hosts: the merge itself was the deploy.
  if (converge && !changed && !(mergedProposal && !report))
    return {
      status: 'noop',
      detail: `${job.environment} already at ${job.tag}${report ? ' on every host' : ''}`,
      tag: job.tag,
      ...(report ? { rollout: report } : {}),
    };
  const promotions: Promotion[] =
    mergedProposal || PROMOTING_REASONS.includes(job.reason) ? await promote(job, ports, ctx) : [];
  const hosts = report
    ? ` · ${report.hosts.filter((h) => h.status === 'updated').length}/${report.hosts.length} host(s) updated`
    : '';
  const promoted = promotions.map((p) => `; ${p.environment}: ${p.result}`).join('');
  return {
    status: 'deployed',
    detail: `${job.environment} at ${job.tag}${hosts}${promoted}`,
    tag: job.tag,
    ...(report ? { rollout: report } : {}),
    ...(promotions.length ? { promotions } : {}),
  };
}

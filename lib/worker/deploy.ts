/**
 * The deploy pipeline of one job (DESIGN.md "Flow", steps 1–3): read the manifest, stop early when it
 * already says this tag or a newer deploy is recorded, wait for the image, then commit the tag edit with
 * the optimistic lock (or open a merge request for `writeBack: mr`). Every port is handed in, so the
 * embedded process, Lambda and the CLI run the same code.
 */
import type { Config, EnvironmentConfig } from '../config/schema.js';
import { FjordError } from '../errors.js';
import type { DeployJob } from '../job.js';
import { bumpTag, readTag } from '../manifest/index.js';
import { buildCommitMessage } from '../manifest/commit-message.js';
import { commitWithRetry } from '../manifest/commit-with-retry.js';
import { ManifestConflict, ManifestStoreError } from '../manifest/store-errors.js';
import { mergeRequestBranch, type ManifestStore } from '../manifest/store.js';
import { RegistryUnavailable } from '../registry/errors.js';
import type { ImageRef } from '../registry/reference.js';
import { RetryableError, type Outcome } from './outcome.js';
import { SOURCE_TIME_TRAILER, supersededBy } from './superseded.js';
import type { JobContext } from './worker-loop.js';

export interface DeployPorts {
  config: Config;
  store: ManifestStore;
  /** Resolves once `image:tag` exists; throws `ImageNotFound` past the deadline. */
  waitForImage(ref: ImageRef, options: { deadlineMs: number; heartbeat: () => Promise<unknown> }): Promise<unknown>;
}

/** The environment a job names, or undefined when fjord.yaml no longer has it. */
export function environmentOf(config: Config, job: Pick<DeployJob, 'app' | 'environment'>): EnvironmentConfig | undefined {
  return config.apps[job.app]?.environments[job.environment];
}

export async function deploy(job: DeployJob, ctx: JobContext, ports: DeployPorts): Promise<Outcome> {
  const { config, store } = ports;
  const env = environmentOf(config, job);
  const app = config.apps[job.app];
  if (!env || !app) return { status: 'failed', detail: `fjord.yaml has no environment ${job.app}/${job.environment}` };
  const target = env.manifest;
  try {
    const file = await store.read(target.file);
    const current = readTag(file.content, target);
    if (current === job.tag) return { status: 'noop', detail: `${target.file} already at ${job.tag}`, tag: job.tag };
    const newer = supersededBy(job, await store.history(target.file, { limit: 50 }));
    if (newer) {
      return { status: 'superseded', detail: `a newer deploy (${newer.tag ?? '?'}, source time ${newer.sourceTime}) is already recorded in ${newer.commitId.slice(0, 12)}` };
    }
    if (app.waitForImage > 0) {
      await ports.waitForImage({ image: job.image, tag: job.tag }, { deadlineMs: app.waitForImage, heartbeat: () => ctx.heartbeat() });
      ctx.logger.info('image found', { image: job.image, tag: job.tag });
    }
    const trailers: Record<string, string> = job.source.committedAt ? { [SOURCE_TIME_TRAILER]: job.source.committedAt } : {};
    const message = buildCommitMessage(job, { template: config.manifest.commitMessage, trailers });
    const edit = (content: string) => {
      const r = bumpTag(content, target, job.tag);
      return r.changed ? r.text : null;
    };
    if ((env.writeBack ?? config.manifest.writeBack) === 'mr') {
      const content = edit(file.content);
      if (content === null) return { status: 'noop', detail: `${target.file} already at ${job.tag}` };
      const mr = await store.openMergeRequest({
        file: target.file,
        content,
        message,
        title: message.split('\n')[0]!,
        sourceBranch: mergeRequestBranch(job.app, job.environment, job.tag),
        baseCommitId: file.headId,
      });
      return { status: 'proposed', detail: `merge request ${mr.webUrl ?? mr.sourceBranch}`, mergeRequest: mr };
    }
    const result = await commitWithRetry(store, target.file, edit, message, {
      onConflict: (_e, attempt) => ctx.logger.info('manifest changed under us; re-reading', { attempt }),
    });
    if (!result.changed) return { status: 'noop', detail: `${target.file} already at ${job.tag}`, tag: job.tag };
    ctx.logger.info('manifest committed', { file: target.file, commit: result.commitId, from: current, to: job.tag });
    return { status: 'deployed', detail: `${target.file}: ${current ?? '(unset)'} → ${job.tag}`, commitId: result.commitId, previousTag: current, tag: job.tag };
  } catch (err) {
    // Transient: the worker puts the job back with back-off. Everything else named is final and reported.
    if (err instanceof ManifestConflict || (err instanceof ManifestStoreError && err.transient) || err instanceof RegistryUnavailable) {
      throw new RetryableError(err.message, 10, { cause: err });
    }
    if (err instanceof FjordError) return { status: 'failed', detail: err.message, error: err.name };
    throw err;
  }
}

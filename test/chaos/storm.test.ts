/**
 * Issue 6, item 1 — the delivery storm. Seeded webhook deliveries for 3 apps × 2 environments go over
 * HTTP to the real receiver, with duplicates (a retried delivery id; the same commit under a new id) and
 * merges delivered after newer ones, while the real worker pipeline (make-handler → deploy) drains the
 * queue into a real manifest repository. Twice: the embedded local queue with the git backend, as
 * `fjord start` runs (its dedup window cut to a few seconds, so late duplicates also reach the worker and
 * must end as no-ops there), and the SQS server with two workers (two Lambdas, say) committing through
 * the GitLab stand-in. GitOps only: no hosts, `waitForImage: 0s`. storm-run.ts wires it; storm-ledger.ts
 * reconciles the receiver's answers, the queue's record, the outcomes and the git history.
 */
import assert from 'node:assert/strict';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../lib/log.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import { createSqsQueue } from '../../lib/queue/sqs.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { DEFAULT_TOKEN, startGitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { counting, GITLAB_TOKENS, SIGNING_KEYS } from '../fixtures/receiver.js';
import { startSqsServer, TEST_CREDENTIALS, TEST_REGION, type SqsServer } from '../fixtures/sqs-server.js';
import { captureText, declareSecrets } from './figures.js';
import {
  assertStorm,
  DEDUP_WINDOW_MS,
  DELIVERIES,
  GROUPS,
  INITIAL,
  runStorm,
  stormConfig,
  values,
} from './storm-run.js';
import { testQueueKey } from '../fixtures/jobs.js';

const SEED = Number(process.env.FJORD_STORM_SEED ?? 20260105);
// A backstop only: the drain ends on a stall bound measured from the storm's own job times (storm-run.ts),
// and a loaded box makes the whole storm slower than the runner's 10-minute default.
const BACKSTOP = { timeout: 30 * 60_000 };
declareSecrets(...GITLAB_TOKENS, ...SIGNING_KEYS, DEFAULT_TOKEN, TEST_CREDENTIALS.secretAccessKey);

describe('chaos: delivery storm', () => {
  let sqs: SqsServer;
  before(async () => {
    sqs = await startSqsServer();
  });
  after(() => sqs?.stop());

  it(`embedded local queue, git backend: ${DELIVERIES} deliveries (seed ${SEED})`, BACKSTOP, async () => {
    const repo = createBareRepo(Object.fromEntries(GROUPS.map((g) => [g.file, values(g.app, INITIAL)])));
    const queueDir = mkdtempSync(join(tmpdir(), 'fjord-storm-queue-'));
    const local = await createLocalQueue({ key: testQueueKey(), dir: queueDir, dedupWindowMs: DEDUP_WINDOW_MS });
    const queue = counting(local);
    try {
      const result = await runStorm({
        name: 'local',
        seed: SEED,
        repo,
        config: stormConfig({ backend: 'git', repository: repo.bare }),
        queue,
        workerQueues: [queue],
        pauseMs: DEDUP_WINDOW_MS + 250,
        leftovers: async () => local.list().length + local.listDead().length,
      });
      assertStorm('local', result);
      // Late retries passed the short dedup window: the worker found the newest merge already deployed.
      assert.ok(result.ledger.noops > 0, 'no duplicate reached the worker');
    } finally {
      await queue.close();
      rmSync(queueDir, { recursive: true, force: true });
      repo.cleanup();
    }
  });

  it(`SQS server, two workers, GitLab stand-in: ${DELIVERIES} deliveries (seed ${SEED + 1})`, BACKSTOP, async () => {
    const repo = createBareRepo(Object.fromEntries(GROUPS.map((g) => [g.file, values(g.app, INITIAL)])));
    // The apps' source projects exist too: the worker reads their GitLab Freeze Periods (none here) with the
    // same token, and a freeze it cannot read holds the job (lib/gates: a freeze fails closed).
    const sources = Object.fromEntries(['acme/api', 'acme/web', 'acme/jobs'].map((p) => [p, { repo: repo.bare }]));
    const gitlab = await startGitlabStandIn({ projects: { 'ops/manifests': { repo: repo.bare }, ...sources } });
    const { queueUrl, dlqUrl } = await sqs.createFifoPair({ maxReceiveCount: 5 });
    const sqsQueue = (waitTimeSeconds: number) =>
      createSqsQueue({
        key: testQueueKey(),
        queueUrl,
        dlqUrl,
        region: TEST_REGION,
        endpoint: sqs.endpoint,
        credentials: TEST_CREDENTIALS,
        waitTimeSeconds,
        logger: createLogger({ level: 'debug', write: captureText }),
      });
    const queue = counting(sqsQueue(0));
    const workerQueues = [sqsQueue(1), sqsQueue(1)];
    const count = async (url: string) => {
      const { Attributes: a = {} } = await sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      return (
        Number(a.ApproximateNumberOfMessages ?? 0) +
        Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
      );
    };
    try {
      const result = await runStorm({
        name: 'sqs',
        seed: SEED + 1,
        repo,
        // The storm's source commits are made up (the stand-in holds only the manifest project): asking
        // GitLab to confirm them (lib/worker/confirm-source.ts) is off, as fjord.yaml may turn it off.
        config: stormConfig(
          { backend: 'gitlab', project: 'ops/manifests' },
          { url: gitlab.url, tokenEnv: 'FJORD_GITLAB_TOKEN', confirmMerge: false },
        ),
        queue,
        workerQueues,
        pauseMs: 0,
        leftovers: async () => (await count(queueUrl)) + (await count(dlqUrl)),
      });
      assertStorm('sqs', result);
    } finally {
      await Promise.all([queue, ...workerQueues].map((q) => q.close()));
      await gitlab.close();
      repo.cleanup();
    }
  });
});

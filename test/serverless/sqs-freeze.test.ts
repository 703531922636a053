/**
 * Deploy freezes on SQS (issue 14, item 1) for both SQS workers, on a real SQS-compatible server (fauxqs,
 * test/fixtures/sqs-server.ts: FIFO queue, FIFO DLQ in its redrive policy): the Lambda worker fed by a
 * stand-in of Lambda's event source mapping (receive a batch, invoke, delete what is not in
 * `batchItemFailures`), and `fjord worker`'s loop (startWorker) polling through the SQS queue adapter. Both
 * run the deploy handler on a bare git manifest repository and the GitLab stand-in for notes and statuses.
 * The gates' clock is injected and follows real time from an offset, because SQS's visibility timeouts are
 * real time: moving the offset is "the freeze ends". One hold round is shortened (`maxHoldSec`) so a
 * freeze spans many rounds within a test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { Gitlab } from '@gitbeaker/rest';
import { parseConfig } from '../../lib/config/index.js';
import type { DeployJob } from '../../lib/job.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { createNotifier } from '../../lib/notify/from-config.js';
import { sqsQueueFromEnv } from '../../lib/queue/sqs-env.js';
import { sendJobInput } from '../../lib/queue/sqs-requests.js';
import { makeLambdaWorker } from '../../lib/worker/lambda.js';
import { makeDeployHandler } from '../../lib/worker/make-handler.js';
import { startWorker, type JobHandler } from '../../lib/worker/worker-loop.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { startGitlabStandIn, type GitlabStandIn } from '../fixtures/gitlab/stand-in.js';
import { eventually } from '../fixtures/eventually.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { sqsEvent, sqsRecord } from '../fixtures/lambda-events.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';
import { startSqsServer, sqsEnv, type SqsServer } from '../fixtures/sqs-server.js';

const FILE = 'api/prod.yaml';
const PROJECT = 'acme/api';
// Christmas in Berlin: 24 Dec 18:00 to 26 Dec 18:00 local (17:00 UTC).
const FREEZE_END = Date.parse('2026-12-26T17:00:00Z');
const INSIDE = Date.parse('2026-12-25T09:00:00Z');
const UNTIL_TEXT = 'waiting for the freeze to end at 2026-12-26 18:00 Europe/Berlin (fjord.yaml freeze "xmas")';
const MAX_RECEIVE_COUNT = 2;

interface World {
  gitlab: GitlabStandIn;
  manifests: TestRepo;
  /** The gates' clock is `Date.now() + offset`: set it to read `ms` now. */
  setClock(ms: number): void;
  merged(n: number): Promise<DeployJob>;
  send(job: DeployJob): Promise<void>;
  /** How many times each job was handed to the deploy handler. */
  receives: Map<string, number>;
  dead(): Promise<number>;
  queued(): Promise<number>;
  tag(): string;
  deployCommits(): string[];
  stop(): Promise<void>;
}

type Driver = 'lambda' | 'worker loop';

async function world(sqs: SqsServer, driver: Driver, { maxHoldSec }: { maxHoldSec: number }): Promise<World> {
  const app = createBareRepo({ 'main.go': 'package main\n' }, { name: 'api' });
  const manifests = createBareRepo({ [FILE]: 'image:\n  tag: v0\n' });
  const gitlab = await startGitlabStandIn({ projects: { [PROJECT]: { repo: app.bare } } });
  const api = new Gitlab({ host: gitlab.url, token: gitlab.token });
  const pair = await sqs.createFifoPair({ maxReceiveCount: MAX_RECEIVE_COUNT });
  const config = parseConfig(
    oneAppConfigYaml({
      repository: manifests.bare,
      file: FILE,
      sources: `{ gitlab: { url: "${gitlab.url}", tokenEnv: GITLAB_TOKEN } }`,
      extra:
        'freezes: [{ name: xmas, cron: "0 18 24 12 *", duration: 48h, timeZone: Europe/Berlin, environments: [prod] }]',
    }),
  );
  const env = { ...sqsEnv(sqs, pair.queueUrl), FJORD_SQS_DLQ_URL: pair.dlqUrl, GITLAB_TOKEN: gitlab.token };
  let offset = INSIDE - Date.now();
  const now = () => new Date(Date.now() + offset);
  const logger = createLogger({ level: 'warn', write: (l) => process.env.FREEZE_DEBUG && console.error(l) });
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-sqs-freeze-'));
  const receives = new Map<string, number>();
  const deployHandler = makeDeployHandler({
    config,
    configPath: join(manifests.root, 'fjord.yaml'),
    dataDir,
    env,
    now,
    notifier: createNotifier(config, { env, logger }),
  });
  const handle: JobHandler = (job, ctx) => {
    receives.set(job.id, (receives.get(job.id) ?? 0) + 1);
    return deployHandler(job, ctx);
  };
  const stopWorker =
    driver === 'lambda'
      ? lambdaPump(sqs, pair.queueUrl, makeLambdaWorker({ env, logger, handle, maxHoldSec }))
      : pollingWorker(env, { handle, logger, maxHoldSec });

  const count = async (url: string) => {
    const a = await sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(a.Attributes!.ApproximateNumberOfMessages) + Number(a.Attributes!.ApproximateNumberOfMessagesNotVisible)
    );
  };
  let committed = 0;
  return {
    gitlab,
    manifests,
    receives,
    setClock: (ms) => {
      offset = ms - Date.now();
    },
    async merged(n) {
      await api.Commits.create(
        PROJECT,
        `feat-${n}`,
        `feat: ${n}`,
        [{ action: 'update', filePath: 'main.go', content: `package main // ${n}\n` }],
        { startBranch: 'main' },
      );
      const mr = await api.MergeRequests.create(PROJECT, `feat-${n}`, 'main', `change ${n}`);
      const m = await api.MergeRequests.merge(PROJECT, mr.iid);
      // As the receiver builds it: the merge time orders deploys (lib/worker/superseded.ts).
      const committedAt = new Date(Date.now() - 60_000 + ++committed * 1000).toISOString();
      return makeJob({
        n,
        id: `job-sqs-freeze-${n}`,
        tag: `v${n}`,
        sha: m.merge_commit_sha!,
        enqueuedAt: new Date().toISOString(),
        source: { provider: 'gitlab', project: PROJECT, ref: 'main', mr: mr.iid, committedAt },
      });
    },
    async send(job) {
      const { group, dedupId } = sendOptionsOf(job);
      await sqs.client.send(new SendMessageCommand(sendJobInput(pair.queueUrl, job, group, dedupId, testQueueKey())));
    },
    dead: () => count(pair.dlqUrl),
    queued: () => count(pair.queueUrl),
    tag: () => /tag: (\S+)/.exec(manifests.git(['show', `main:${FILE}`]))![1]!,
    deployCommits: () =>
      manifests
        .git(['log', '--format=%s', 'main'])
        .trim()
        .split('\n')
        .filter((s) => s.startsWith('deploy(')),
    async stop() {
      await stopWorker();
      await gitlab.close();
      app.cleanup();
      manifests.cleanup();
    },
  };
}

/** The event source mapping: long-poll, invoke, delete the records the answer does not list. */
function lambdaPump(
  sqs: SqsServer,
  queueUrl: string,
  worker: ReturnType<typeof makeLambdaWorker>,
): () => Promise<void> {
  let pumping = true;
  const pump = (async () => {
    while (pumping) {
      const got =
        (
          await sqs.client.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 60,
              WaitTimeSeconds: 1,
              MessageSystemAttributeNames: ['All'],
              MessageAttributeNames: ['All'],
            }),
          )
        ).Messages ?? [];
      if (!got.length) continue;
      const answer = await worker(sqsEvent(got.map((m) => sqsRecord(m))));
      const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
      for (const m of got)
        if (!failed.has(m.MessageId!))
          await sqs.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  })();
  return async () => {
    pumping = false;
    await pump;
  };
}

/** `fjord worker`: the worker loop long-polling through the SQS queue adapter (1 s polls, so it stops soon). */
function pollingWorker(
  env: Record<string, string>,
  options: { handle: JobHandler; logger: Logger; maxHoldSec: number },
): () => Promise<void> {
  const queue = sqsQueueFromEnv(env, { waitTimeSeconds: 1, logger: options.logger });
  const running = startWorker({ queue, ...options, visibilitySec: 60 });
  return async () => {
    await running.stop();
    await queue.close();
  };
}

const noteOf = (w: World, job: DeployJob) =>
  w.gitlab.state.notes.find((n) => n.mergeRequestIid === job.source.mr)?.body ?? '';
const statusOf = (w: World, job: DeployJob) => w.gitlab.state.statuses.filter((s) => s.sha === job.sha).at(-1);

for (const driver of ['lambda', 'worker loop'] as const)
  describe(`a deploy freeze on SQS (${driver})`, () => {
    let sqs: SqsServer;
    const worlds: World[] = [];
    before(async () => {
      sqs = await startSqsServer();
    });
    after(async () => {
      await Promise.all(worlds.map((w) => w.stop()));
      await sqs.stop();
    });

    it('a merge held across more hold rounds than maxReceiveCount never reaches the DLQ, commits nothing, says until when, and rolls out by itself when the freeze ends', async () => {
      const w = await world(sqs, driver, { maxHoldSec: 1 });
      worlds.push(w);
      const job = await w.merged(1);
      await w.send(job);
      // Each round is one second: wait for well over maxReceiveCount deliveries (or the DLQ, on a regression).
      const rounds = 3 * MAX_RECEIVE_COUNT;
      await eventually(
        async () => (w.receives.get(job.id) ?? 0) > rounds || (await w.dead()) > 0,
        `${rounds} hold rounds`,
      );
      assert.equal(await w.dead(), 0, 'the held job went to the dead-letter queue');
      assert.equal(await w.queued(), 1, 'one copy of the job waits, no more, no less');
      assert.equal(w.tag(), 'v0', 'nothing rolled out');
      assert.deepEqual(w.deployCommits(), []);
      assert.ok(noteOf(w, job).includes(UNTIL_TEXT), noteOf(w, job));
      assert.equal(statusOf(w, job)?.state, 'pending');
      assert.equal(statusOf(w, job)?.description, UNTIL_TEXT);
      assert.equal(w.gitlab.state.deployments.length, 0, 'no GitLab Deployment while it waits');

      w.setClock(FREEZE_END + 1_000);
      await eventually(() => statusOf(w, job)?.state === 'success', 'the deploy after the freeze');
      assert.equal(w.tag(), 'v1');
      assert.deepEqual(w.deployCommits(), ['deploy(api/prod): registry.example.com/acme/api:v1']);
      await eventually(async () => (await w.queued()) === 0, 'the queue to be empty');
      assert.equal(await w.dead(), 0);
    });

    it('a newer merge during the freeze: when the freeze ends only the newer one rolls out, the older is superseded', async () => {
      const w = await world(sqs, driver, { maxHoldSec: 43_200 });
      worlds.push(w);
      // The freeze ends a few real seconds from now: the held copy stays invisible until then (one round).
      const endsInMs = 8_000;
      w.setClock(FREEZE_END - endsInMs);
      const older = await w.merged(2);
      await w.send(older);
      await eventually(
        () => noteOf(w, older).includes(UNTIL_TEXT) && statusOf(w, older)?.state === 'pending',
        'the older job to wait',
      );
      // Its held copy (the second delivery) is in flight: the newer one queues behind it.
      await eventually(() => (w.receives.get(older.id) ?? 0) >= 2, "the older job's held copy");
      const newer = await w.merged(3);
      await w.send(newer);
      assert.deepEqual(w.deployCommits(), [], 'nothing rolled out during the freeze');

      await eventually(() => statusOf(w, newer)?.state === 'success', 'the newer deploy after the freeze');
      const final = await eventually(
        () => ['canceled', 'success', 'failed'].includes(statusOf(w, older)?.state ?? '') && statusOf(w, older),
        "the older job's final status",
      );
      assert.equal(final.state, 'canceled', `the older job: ${final.description}`);
      assert.equal(w.tag(), 'v3');
      assert.deepEqual(
        w.deployCommits(),
        ['deploy(api/prod): registry.example.com/acme/api:v3'],
        'v2 was never committed',
      );
      assert.match(noteOf(w, older), /superseded/);
      await eventually(async () => (await w.queued()) === 0, 'the queue to be empty');
      assert.equal(await w.dead(), 0);
    });

    it('a newer merge during the freeze, both held through whole hold rounds: when the freeze ends only the newer one rolls out, the older is superseded naming it', async () => {
      const w = await world(sqs, driver, { maxHoldSec: 1 });
      worlds.push(w);
      const older = await w.merged(4);
      await w.send(older);
      await eventually(() => (w.receives.get(older.id) ?? 0) >= 2, "the older job's held copy");
      const newer = await w.merged(5);
      await w.send(newer);
      // Both are held copies that have each waited out a round (a copy is received twice per round: once to
      // stay in flight for it, once to be copied to the back of the group).
      await eventually(() => (w.receives.get(newer.id) ?? 0) >= 3, "the newer job's second round");
      const seen = w.receives.get(older.id)!;
      // The freeze ends while the older copy is the group's head, in flight for its round: it is the first
      // one the gates let go, which is where queue order alone put the older deploy out first (unless the
      // older one already ended, replaced, when it came round).
      await eventually(() => {
        const n = w.receives.get(older.id)!;
        return (n > seen && n % 2 === 0) || statusOf(w, older)?.state === 'canceled';
      }, 'the older copy in flight for a round');
      w.setClock(FREEZE_END + 1_000);
      await eventually(() => statusOf(w, newer)?.state === 'success', 'the newer deploy after the freeze');
      const final = await eventually(
        () => ['canceled', 'success', 'failed'].includes(statusOf(w, older)?.state ?? '') && statusOf(w, older),
        "the older job's final status",
      );
      assert.equal(final.state, 'canceled', `the older job: ${final.description}`);
      assert.equal(w.tag(), 'v5');
      assert.deepEqual(
        w.deployCommits(),
        ['deploy(api/prod): registry.example.com/acme/api:v5'],
        'v4 was never committed',
      );
      assert.match(noteOf(w, older), /superseded/);
      assert.match(noteOf(w, older), new RegExp(`v5 \\(!${newer.source.mr}, ${newer.sha!.slice(0, 12)}\\)`));
      await eventually(async () => (await w.queued()) === 0, 'the queue to be empty');
      assert.equal(await w.dead(), 0);
    });
  });

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Miniflare } from 'miniflare';
import { stringify } from 'yaml';
import { bundleWorkers, type Bundle } from '../../infra/bundle.js';
import { deployJobSchema } from '../../lib/job.js';
import { gitlabHeaders, payload, signedHeaders, testConfig, testEnv } from '../fixtures/receiver.js';
import { startSqsServer, TEST_REGION, type FifoPair, type SqsServer, sqsEnv } from '../fixtures/sqs-server.js';
import { TEST_QUEUE_KEY_VALUE } from '../fixtures/jobs.js';

const BUDGET_GZIP = 250 * 1024;

// The Workers bundle (the file wrangler.toml deploys) in real workerd through miniflare 3, sending to a
// real SQS-compatible server on 127.0.0.1 with a SigV4-signed fetch. workerd may reach loopback only.
describe('Workers receiver on workerd', () => {
  let sqs: SqsServer;
  let pair: FifoPair;
  let mf: Miniflare;
  let bundle: Bundle;

  before(async () => {
    sqs = await startSqsServer();
    pair = await sqs.createFifoPair();
    bundle = await bundleWorkers({ outFile: join(mkdtempSync(join(tmpdir(), 'fjord-workers-')), 'receiver.mjs') });
    mf = new Miniflare({
      modules: true,
      scriptPath: bundle.file,
      modulesRoot: dirname(bundle.file),
      compatibilityDate: '2025-07-01',
      compatibilityFlags: ['nodejs_compat'],
      bindings: {
        ...(testEnv as Record<string, string>),
        FJORD_CONFIG_YAML: stringify(withHosts),
        ...sqsEnv(sqs, pair.queueUrl),
        FJORD_LOG_LEVEL: 'error',
      },
      outboundService: { network: { allow: ['local'] } },
    });
    await mf.ready;
  });
  after(async () => {
    // dispose() rethrows a failed start-up: the SQS server must stop anyway, or the process never ends.
    await mf?.dispose().catch(() => {});
    await sqs?.stop();
  });

  // Two environments with a host: what the cron handler makes reconcile jobs for.
  const withHosts = testConfig((c) => {
    c.hosts = { 'web-1': { address: '127.0.0.2', hostKey: `SHA256:${'A'.repeat(43)}` } };
    c.apps.api.environments.staging.hosts = ['web-1'];
    c.apps.worker.environments.production.hosts = ['web-1'];
  });

  const drain = async () => {
    const out = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: pair.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    for (const m of out.Messages ?? [])
      await sqs.client.send(new DeleteMessageCommand({ QueueUrl: pair.queueUrl, ReceiptHandle: m.ReceiptHandle }));
    return out.Messages ?? [];
  };

  it(`is within the bundle budget (${BUDGET_GZIP} bytes gzipped)`, () => {
    assert.ok(bundle.gzipBytes <= BUDGET_GZIP, `${bundle.gzipBytes} bytes gzipped`);
  });

  it('a signed GitLab merge event lands as a job message in SQS', async () => {
    const body = JSON.stringify(payload('gitlab-merge-request'));
    const res = await mf.dispatchFetch('https://fjord.example.workers.dev/hooks/gitlab', {
      method: 'POST',
      headers: signedHeaders('Merge Request Hook', body),
      body,
    });
    const answer = (await res.json()) as any;
    assert.equal(res.status, 202, JSON.stringify(answer));
    const [message, ...rest] = await drain();
    assert.equal(rest.length, 0);
    assert.ok(message, 'no message in the queue');
    const job = deployJobSchema.parse(JSON.parse(message.Body!));
    assert.equal(job.id, answer.queued[0].id);
    assert.deepEqual([job.app, job.environment, job.reason], ['api', 'staging', 'merge']);
    assert.equal(message.Attributes?.MessageGroupId, 'api/staging');
    assert.equal(message.Attributes?.MessageDeduplicationId, `api/staging/${job.sha}`);
  });

  it('the cron handler enqueues one reconcile job per environment with hosts, once per tick', async () => {
    // miniflare 3's Fetcher type lacks scheduled(); the method exists at run time.
    const worker = (await mf.getWorker()) as unknown as {
      scheduled(o: { cron: string; scheduledTime?: Date }): Promise<{ outcome: string }>;
    };
    const scheduledTime = new Date('2030-01-01T12:07:30Z');
    assert.equal((await worker.scheduled({ cron: '*/5 * * * *', scheduledTime })).outcome, 'ok');
    const messages = await drain();
    const jobs = messages.map((m) => ({
      job: deployJobSchema.parse(JSON.parse(m.Body!)),
      group: m.Attributes?.MessageGroupId,
      dedup: m.Attributes?.MessageDeduplicationId,
    }));
    assert.deepEqual(jobs.map((j) => [j.group, j.job.reason, j.job.enqueuedAt]).sort(), [
      ['api/staging', 'reconcile', '2030-01-01T12:05:00.000Z'],
      ['worker/production', 'reconcile', '2030-01-01T12:05:00.000Z'],
    ]);
    for (const j of jobs) assert.equal(j.dedup, `reconcile/${j.job.id}`);
    // The same tick again (a retried trigger): the queue drops it.
    assert.equal(
      (await worker.scheduled({ cron: '*/5 * * * *', scheduledTime: new Date('2030-01-01T12:09:59Z') })).outcome,
      'ok',
    );
    assert.deepEqual(await drain(), []);
  });

  it('a bad signature or token is 401 and sends nothing', async () => {
    const body = JSON.stringify(payload('gitlab-merge-request'));
    const forged = {
      ...signedHeaders('Merge Request Hook', body),
      'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64'),
    };
    assert.equal(
      (
        await mf.dispatchFetch('https://fjord.example.workers.dev/hooks/gitlab', {
          method: 'POST',
          headers: forged,
          body,
        })
      ).status,
      401,
    );
    const wrongToken = await mf.dispatchFetch('https://fjord.example.workers.dev/hooks/gitlab', {
      method: 'POST',
      headers: gitlabHeaders('Merge Request Hook', 'wrong'),
      body,
    });
    assert.equal(wrongToken.status, 401);
    // The answer names the error by its class, as the Node receiver does (not a minified name).
    assert.equal(((await wrongToken.json()) as { error?: string }).error, 'Unauthorized');
    assert.deepEqual(await drain(), []);
  });

  it('answers 503 when SQS refuses the message (GitLab retries on 5xx)', async () => {
    const broken = new Miniflare({
      modules: true,
      scriptPath: bundle.file,
      modulesRoot: dirname(bundle.file),
      compatibilityDate: '2025-07-01',
      compatibilityFlags: ['nodejs_compat'],
      bindings: {
        ...(testEnv as Record<string, string>),
        FJORD_CONFIG_YAML: stringify(testConfig()),
        FJORD_SQS_QUEUE_URL: pair.queueUrl.replace(/[^/]+\.fifo$/, 'missing.fifo'),
        FJORD_SQS_ENDPOINT: sqs.endpoint,
        AWS_REGION: TEST_REGION,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
        FJORD_QUEUE_KEY: TEST_QUEUE_KEY_VALUE,
        FJORD_LOG_LEVEL: 'error',
      },
    });
    try {
      const body = JSON.stringify(payload('gitlab-merge-request'));
      const res = await broken.dispatchFetch('https://fjord.example.workers.dev/hooks/gitlab', {
        method: 'POST',
        headers: gitlabHeaders('Merge Request Hook'),
        body,
      });
      assert.equal(res.status, 503, await res.text());
    } finally {
      await broken.dispose().catch(() => {});
    }
  });
});

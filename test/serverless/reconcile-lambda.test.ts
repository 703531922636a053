/**
 * The reconcile scheduler on Lambda (functions/reconcile.ts → lib/reconcile/schedule-lambda.ts) against a
 * real SQS-compatible server: an EventBridge scheduled event becomes one reconcile job per environment
 * with hosts, in its group, deduplicated per tick — through the lib handler, and through the esbuild
 * bundle that infra/ deploys.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { stringify } from 'yaml';
import { bundleLambda } from '../../infra/bundle.js';
import { deployJobSchema } from '../../lib/job.js';
import { silentLogger } from '../../lib/log.js';
import { makeLambdaReconcile } from '../../lib/reconcile/schedule-lambda.js';
import { testConfig } from '../fixtures/receiver.js';
import { startSqsServer, sqsEnv, type FifoPair, type SqsServer } from '../fixtures/sqs-server.js';

// An EventBridge "Scheduled Event" as AWS documents it (only `time` is read).
const scheduledEvent = (time: string) => ({
  version: '0',
  id: 'c1d2e3f4',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time,
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/Fjord-ReconcileSchedule'],
  detail: {},
});

describe('reconcile scheduler on Lambda', () => {
  let sqs: SqsServer;
  let pair: FifoPair;
  const config = testConfig((c) => {
    c.hosts = { 'web-1': { address: '127.0.0.2', hostKey: `SHA256:${'A'.repeat(43)}` } };
    c.reconcile = { interval: '10m' };
    c.apps.api.environments.production.hosts = ['web-1'];
    c.apps.web.environments.production.hosts = ['web-1'];
  });
  const env = () => ({ ...sqsEnv(sqs, pair.queueUrl), FJORD_CONFIG_YAML: stringify(config) });

  before(async () => {
    sqs = await startSqsServer();
    pair = await sqs.createFifoPair();
  });
  after(() => sqs?.stop());

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
    return (out.Messages ?? []).map((m) => ({
      job: deployJobSchema.parse(JSON.parse(m.Body!)),
      group: m.Attributes?.MessageGroupId,
      dedup: m.Attributes?.MessageDeduplicationId,
    }));
  };

  it('sends the tick’s reconcile jobs to SQS; the same tick again is dropped as a duplicate', async () => {
    const handler = makeLambdaReconcile({ env: env(), logger: silentLogger });
    const first = await handler(scheduledEvent('2030-01-01T12:14:00Z'));
    assert.deepEqual(
      first.queued.map((q) => [q.app, q.environment, q.duplicate]),
      [
        ['api', 'production', false],
        ['web', 'production', false],
      ],
    );
    const messages = await drain();
    assert.deepEqual(messages.map((m) => [m.group, m.job.reason, m.job.enqueuedAt]).sort(), [
      ['api/production', 'reconcile', '2030-01-01T12:10:00.000Z'],
      ['web/production', 'reconcile', '2030-01-01T12:10:00.000Z'],
    ]);
    for (const m of messages) assert.equal(m.dedup, `reconcile/${m.job.id}`);

    const again = await handler(scheduledEvent('2030-01-01T12:19:59Z'));
    assert.deepEqual(
      again.queued.map((q) => q.duplicate),
      [true, true],
    );
    assert.deepEqual(await drain(), []);
    const next = await handler(scheduledEvent('2030-01-01T12:20:00Z'));
    assert.deepEqual(
      next.queued.map((q) => q.duplicate),
      [false, false],
    );
    assert.equal((await drain()).length, 2);
  });

  it('the deployed bundle (functions/reconcile.ts) does the same from its environment', async () => {
    const bundle = await bundleLambda('reconcile', { outDir: mkdtempSync(join(tmpdir(), 'fjord-reconcile-')) });
    const saved = { ...process.env };
    Object.assign(process.env, env(), { FJORD_LOG_LEVEL: 'error' });
    try {
      const { handler } = (await import(pathToFileURL(bundle.file).href)) as {
        handler: (e: unknown) => Promise<{ queued: unknown[] }>;
      };
      const out = await handler(scheduledEvent('2030-01-02T00:00:00Z'));
      assert.equal(out.queued.length, 2);
      assert.deepEqual(
        (await drain()).map((m) => m.job.enqueuedAt),
        ['2030-01-02T00:00:00.000Z', '2030-01-02T00:00:00.000Z'],
      );
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { main } from '../../lib/cli/main.js';
import { silentLogger } from '../../lib/log.js';
import { createSqsQueue } from '../../lib/queue/sqs.js';
import { createBareRepo, type TestRepo } from '../fixtures/git/repo.js';
import { oneAppConfigYaml } from '../fixtures/one-app-config.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { startSqsServer, TEST_CREDENTIALS, TEST_REGION, type SqsServer, sqsEnv } from '../fixtures/sqs-server.js';

const FJORD = fileURLToPath(new URL('../../functions/fjord.mjs', import.meta.url));
const FILE = 'apps/api/prod/values.yaml';

// `fjord worker --queue sqs` as its own process, on a real SQS-compatible server and a real bare git
// repository (git backend): a job sent to the queue becomes a manifest commit, and the message is gone.
describe('fjord worker --queue sqs', () => {
  let sqs: SqsServer;
  let repo: TestRepo;
  before(async () => {
    sqs = await startSqsServer();
    repo = createBareRepo({ [FILE]: 'image:\n  repository: acme/api\n  tag: "v0" # set by fjord\n' });
  });
  after(async () => {
    await sqs.stop();
    repo.cleanup();
  });

  it('drains a job from SQS into a manifest commit, and stops on SIGTERM', async () => {
    const pair = await sqs.createFifoPair();
    const dir = mkdtempSync(join(tmpdir(), 'fjord-worker-cli-'));
    const configFile = join(dir, 'fjord.yaml');
    writeFileSync(
      configFile,
      oneAppConfigYaml({ repository: repo.bare, file: FILE, sources: '{ gitlab: { webhookSecretEnv: S } }' }),
    );
    const queue = createSqsQueue({
      key: testQueueKey(),
      queueUrl: pair.queueUrl,
      region: TEST_REGION,
      endpoint: sqs.endpoint,
      credentials: TEST_CREDENTIALS,
      logger: silentLogger,
    });
    const job = makeJob({ app: 'api', environment: 'prod', n: 5, image: 'registry.example.com/acme/api' });
    await queue.send(job, sendOptionsOf(job));
    await queue.close();

    const child = spawn(process.execPath, [FJORD, 'worker', '--queue', 'sqs', '--config', configFile], {
      cwd: dir,
      env: {
        ...process.env,
        ...sqsEnv(sqs, pair.queueUrl),
        FJORD_DATA_DIR: join(dir, 'data'),
        FJORD_LOG_LEVEL: 'info',
        NODE_NO_WARNINGS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let content = '';
      for (let i = 0; i < 150 && !content.includes('tag: "v5"'); i++) {
        await sleep(100);
        content = repo.git(['show', `main:${FILE}`]);
      }
      assert.match(content, /tag: "v5" # set by fjord/, `no commit; worker log:\n${stderr}`);
      // Acked: nothing left in the queue, visible or in flight.
      let left = '?';
      for (let i = 0; i < 50 && left !== '0/0'; i++) {
        const a = await sqs.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: pair.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        left = `${a.Attributes?.ApproximateNumberOfMessages}/${a.Attributes?.ApproximateNumberOfMessagesNotVisible}`;
        if (left !== '0/0') await sleep(100);
      }
      assert.equal(left, '0/0', 'message not deleted');
      const started = Date.now();
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.ok(Date.now() - started < 5_000, 'stop waited out a long poll');
      assert.match(stderr, /"status":"deployed"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses another queue and a bad concurrency as usage errors (exit 2)', async () => {
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (t: string) => void err.push(t), env: {}, cwd: process.cwd() };
    assert.equal(await main(['worker', '--queue', 'local'], io), 2);
    assert.match(err.join(''), /only "sqs"/);
    assert.equal(await main(['worker', '--concurrency', '0'], io), 2);
  });
});

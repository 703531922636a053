import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/errors.js';
import { scrub } from '../../lib/secret.js';
import { sqsOptionsFromEnv } from '../../lib/queue/sqs-env.js';
import { TEST_QUEUE_KEY_VALUE } from '../fixtures/jobs.js';

const QUEUE = 'https://sqs.eu-central-1.amazonaws.com/123456789012/fjord-jobs.fifo';
const DLQ = 'https://sqs.eu-central-1.amazonaws.com/123456789012/fjord-jobs-dlq.fifo';
const KEY = { FJORD_QUEUE_KEY: TEST_QUEUE_KEY_VALUE };

const issuesOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    sqsOptionsFromEnv(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected a ConfigError');
};

describe('sqsOptionsFromEnv', () => {
  it('reads queue, DLQ, region, endpoint and wait time', () => {
    const options = sqsOptionsFromEnv({
      FJORD_SQS_QUEUE_URL: QUEUE,
      FJORD_SQS_DLQ_URL: DLQ,
      AWS_REGION: 'eu-central-1',
      FJORD_SQS_ENDPOINT: 'http://127.0.0.1:4566',
      FJORD_SQS_WAIT_SECONDS: '5',
      ...KEY,
    });
    assert.ok(options.key.refusal('body', options.key.sign('body')) === undefined, 'the key of FJORD_QUEUE_KEY');
    assert.deepEqual(
      { ...options, credentials: undefined, key: undefined },
      {
        queueUrl: QUEUE,
        dlqUrl: DLQ,
        region: 'eu-central-1',
        endpoint: 'http://127.0.0.1:4566',
        waitTimeSeconds: 5,
        credentials: undefined,
        key: undefined,
      },
    );
    assert.equal(options.credentials, undefined, 'without keys in env, the SDK chain (role, profile) decides');
  });

  it('takes the region from AWS_DEFAULT_REGION, else from an AWS queue URL', () => {
    assert.equal(
      sqsOptionsFromEnv({ FJORD_SQS_QUEUE_URL: QUEUE, AWS_DEFAULT_REGION: 'us-west-2', ...KEY }).region,
      'us-west-2',
    );
    assert.equal(sqsOptionsFromEnv({ FJORD_SQS_QUEUE_URL: QUEUE, ...KEY }).region, 'eu-central-1');
  });

  it('names every problem by its variable', () => {
    assert.deepEqual(issuesOf({}), [
      'FJORD_SQS_QUEUE_URL: required (the URL of the SQS FIFO queue)',
      'AWS_REGION: required (the region of the SQS queue, e.g. eu-central-1)',
      'FJORD_QUEUE_KEY: required (every producer and worker of the SQS queue signs and checks messages with it; e.g. `openssl rand -hex 32`)',
    ]);
    assert.deepEqual(
      issuesOf({
        FJORD_SQS_QUEUE_URL: QUEUE.replace('.fifo', ''),
        FJORD_SQS_DLQ_URL: 'fjord-dlq',
        AWS_REGION: 'eu-central-1',
        FJORD_SQS_ENDPOINT: 'localhost:4566',
        FJORD_SQS_WAIT_SECONDS: '30',
        ...KEY,
      }),
      [
        `FJORD_SQS_QUEUE_URL: must name a FIFO queue (ending in .fifo): "${QUEUE.replace('.fifo', '')}"`,
        'FJORD_SQS_DLQ_URL: not a queue URL: "fjord-dlq"',
        'FJORD_SQS_ENDPOINT: not an http(s) URL: "localhost:4566"',
        'FJORD_SQS_WAIT_SECONDS: a whole number of seconds from 0 to 20, not "30"',
      ],
    );
  });

  it('hands keys from env to the SDK through a provider, masked in logs', async () => {
    const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const options = sqsOptionsFromEnv({
      FJORD_SQS_QUEUE_URL: QUEUE,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: secretKey,
      ...KEY,
    });
    assert.equal(typeof options.credentials, 'function');
    assert.ok(!JSON.stringify(options).includes(secretKey));
    const provider = options.credentials as () => Promise<{
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
    }>;
    assert.deepEqual(await provider(), {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: secretKey,
      sessionToken: undefined,
    });
    assert.equal(scrub(`leaked ${secretKey}`), 'leaked [redacted]');
  });
});

/**
 * The worker on AWS Lambda, triggered by the SQS FIFO queue (infra/). No logic here: lib/worker/lambda.ts
 * and lib/worker/handle-sqs-batch.ts. Answers `{ batchItemFailures }` for the jobs SQS must redeliver.
 */
import { withAwsSecrets } from '../lib/config/aws-secrets.js';
import { makeLambdaWorker } from '../lib/worker/lambda.js';

// Made at init: config, secrets (GitLab token, SSH key), manifest store and SQS client once per cold start.
export const handler = makeLambdaWorker({ env: await withAwsSecrets(process.env) });

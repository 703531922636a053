/**
 * The worker on AWS Lambda, triggered by the SQS FIFO queue (infra/). No logic here: lib/worker/lambda.ts
 * and lib/worker/handle-sqs-batch.ts. Answers `{ batchItemFailures }` for the jobs SQS must redeliver.
 */
import { makeLambdaWorker } from '../lib/worker/lambda.js';

// Made at init: config, manifest store and SQS client once per cold start.
export const handler = makeLambdaWorker();

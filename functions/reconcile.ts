/**
 * The reconcile scheduler on AWS Lambda, invoked by an EventBridge rule every `reconcile.interval`
 * (infra/). No logic here: lib/reconcile/schedule-lambda.ts. It only enqueues reconcile jobs to SQS;
 * the worker Lambda runs them.
 */
import { withAwsSecrets } from '../lib/config/aws-secrets.js';
import { makeLambdaReconcile } from '../lib/reconcile/schedule-lambda.js';

// Made at init: config, the queue key (Secrets Manager) and SQS client once per cold start.
export const handler = makeLambdaReconcile({ env: await withAwsSecrets(process.env) });

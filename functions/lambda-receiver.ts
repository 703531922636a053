/**
 * The receiver on AWS Lambda behind a function URL (infra/). No logic here: lib/receiver/lambda.ts.
 * Environment: FJORD_SQS_QUEUE_URL (+ AWS_REGION), the webhook secrets fjord.yaml names, and
 * FJORD_CONFIG_YAML or the bundled fjord.yaml (FJORD_CONFIG).
 */
import { makeLambdaReceiver } from '../lib/receiver/lambda.js';

// Made at init: config, secrets and the SQS client once per cold start, not once per request.
export const handler = makeLambdaReceiver();

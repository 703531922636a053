/**
 * The receiver on AWS Lambda behind a function URL (infra/). No logic here: lib/receiver/lambda.ts.
 * Environment: FJORD_SQS_QUEUE_URL (+ AWS_REGION), FJORD_SECRET_ARNS (the webhook secret in Secrets
 * Manager, read once), and FJORD_CONFIG_YAML or the bundled fjord.yaml (FJORD_CONFIG).
 */
import { withAwsSecrets } from '../lib/config/aws-secrets.js';
import { makeLambdaReceiver } from '../lib/receiver/lambda.js';

// Made at init: config, secrets and the SQS client once per cold start, not once per request.
export const handler = makeLambdaReceiver({ env: await withAwsSecrets(process.env) });

/**
 * The CDK app (`npm run synth`, `npm run deploy:aws`; cdk.json runs it). Offline and without Docker:
 * validates fjord.yaml (FJORD_CONFIG, else ./fjord.yaml, else examples/fjord.yaml), bundles both
 * functions with esbuild (infra/bundle.ts, the file copied beside each bundle), and describes the stack.
 * Context: `stackName` (default Fjord), `secretPrefix` (default fjord/), `workerTimeoutSeconds` (300).
 */
import { App, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { loadConfig } from '../lib/config/load.js';
import { bundleLambda } from './bundle.js';
import { planSecrets } from './secret-names.js';
import { FjordStack } from './stack.js';

const app = new App();
const { config, path } = loadConfig();
const [receiver, worker] = await Promise.all([bundleLambda('lambda-receiver', { configFile: path }), bundleLambda('lambda-worker', { configFile: path })]);
const context = (key: string): string | undefined => app.node.tryGetContext(key);

new FjordStack(app, context('stackName') ?? 'Fjord', {
  description: 'fjord: GitOps deploy relay (webhook receiver → SQS FIFO → worker)',
  receiverCode: lambda.Code.fromAsset(receiver.dir),
  workerCode: lambda.Code.fromAsset(worker.dir),
  secrets: planSecrets(config, context('secretPrefix') ?? 'fjord/'),
  workerTimeout: Duration.seconds(Number(context('workerTimeoutSeconds') ?? 300)),
  // The account and region of the CLI's profile at deploy time; synth needs neither.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();

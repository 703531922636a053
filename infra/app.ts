/**
 * The CDK app (`npm run synth`, `npm run deploy:aws`; cdk.json runs it). Offline and without Docker:
 * validates fjord.yaml (FJORD_CONFIG, else ./fjord.yaml, else examples/fjord.yaml), bundles the three
 * functions (receiver, worker, reconcile scheduler) with esbuild (infra/bundle.ts, the file copied beside each bundle), and describes the stack.
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
const [receiver, worker, reconcile] = await Promise.all(
  (['lambda-receiver', 'lambda-worker', 'reconcile'] as const).map((entry) =>
    bundleLambda(entry, { configFile: path }),
  ),
);
const context = (key: string): string | undefined => app.node.tryGetContext(key);

new FjordStack(app, context('stackName') ?? 'Fjord', {
  description: 'fjord: GitOps deploy relay (webhook receiver → SQS FIFO → worker; scheduled drift check)',
  receiverCode: lambda.Code.fromAsset(receiver!.dir),
  workerCode: lambda.Code.fromAsset(worker!.dir),
  reconcileCode: lambda.Code.fromAsset(reconcile!.dir),
  reconcileInterval: Duration.millis(config.reconcile.interval),
  secrets: planSecrets(config, context('secretPrefix') ?? 'fjord/'),
  workerTimeout: Duration.seconds(Number(context('workerTimeoutSeconds') ?? 300)),
  // The account and region of the CLI's profile at deploy time; synth needs neither.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();

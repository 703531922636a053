import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { bundleLambda } from '../../infra/bundle.js';
import { planSecrets } from '../../infra/secret-names.js';
import { FjordStack, VISIBILITY_FACTOR } from '../../infra/stack.js';
import { loadConfig } from '../../lib/config/load.js';
import { testConfig } from '../fixtures/receiver.js';

// The CDK stack as CloudFormation, synthesized offline from the real esbuild bundles and examples/fjord.yaml.
describe('infra: the CDK stack', async () => {
  const { config, path } = loadConfig({ file: 'examples/fjord.yaml' });
  const out = mkdtempSync(join(tmpdir(), 'fjord-infra-'));
  const [receiver, worker, reconcile] = await Promise.all([
    bundleLambda('lambda-receiver', { outDir: join(out, 'receiver'), configFile: path }),
    bundleLambda('lambda-worker', { outDir: join(out, 'worker'), configFile: path }),
    bundleLambda('reconcile', { outDir: join(out, 'reconcile'), configFile: path }),
  ]);
  const synth = (
    workerTimeout = Duration.minutes(5),
    reconcileInterval = Duration.millis(config.reconcile.interval),
  ) => {
    const app = new App({ outdir: join(out, 'cdk.out') });
    const stack = new FjordStack(app, 'Fjord', {
      receiverCode: lambda.Code.fromAsset(receiver.dir),
      workerCode: lambda.Code.fromAsset(worker.dir),
      reconcileCode: lambda.Code.fromAsset(reconcile.dir),
      reconcileInterval,
      secrets: planSecrets(config),
      workerTimeout,
    });
    return Template.fromStack(stack);
  };
  const template = synth();
  const queues = () => Object.values(template.findResources('AWS::SQS::Queue')) as any[];

  it('bundles no AWS SDK into the receiver and the scheduler; the worker imports only the SQS client, from the Lambda runtime', () => {
    const sdkImports = (file: string) => [
      ...new Set(readFileSync(file, 'utf8').match(/["']@aws-sdk\/[a-z0-9-]+["']/g) ?? []),
    ];
    const bundled = (file: string) => /SQSClient|smithy/.test(readFileSync(file, 'utf8'));
    assert.deepEqual(sdkImports(receiver.file), []);
    assert.deepEqual(sdkImports(reconcile.file), []);
    assert.equal(bundled(receiver.file) || bundled(reconcile.file), false);
    assert.deepEqual(sdkImports(worker.file), ['"@aws-sdk/client-sqs"']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: Match.stringLikeRegexp('^nodejs(2[02]|24)\\.x$'),
    });
  });

  it('has a FIFO job queue (content-based dedup off) with a FIFO DLQ after 5 receives, and an alarm on its depth', () => {
    assert.equal(queues().length, 2);
    for (const q of queues()) {
      assert.equal(q.Properties.FifoQueue, true);
      assert.equal(q.Properties.ContentBasedDeduplication, false);
    }
    const dlqId = Object.entries(template.findResources('AWS::SQS::Queue')).find(
      ([, q]: any) => !q.Properties.RedrivePolicy,
    )![0];
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('runs the reconcile Lambda on an EventBridge rule at the reconcile interval, allowed only sqs:SendMessage on the job queue', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const reconcileId = Object.keys(functions).find((id) => id.startsWith('Reconcile'))!;
    assert.ok(reconcileId, 'no reconcile function');
    const [rule, ...moreRules] = Object.values(template.findResources('AWS::Events::Rule')) as any[];
    assert.equal(moreRules.length, 0);
    assert.equal(rule.Properties.ScheduleExpression, `rate(${config.reconcile.interval / 60_000} minutes)`);
    assert.equal(rule.Properties.State, 'ENABLED');
    assert.deepEqual(
      rule.Properties.Targets.map((t: any) => t.Arn),
      [{ 'Fn::GetAtt': [reconcileId, 'Arn'] }],
    );
    const ruleId = Object.keys(template.findResources('AWS::Events::Rule'))[0]!;
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [reconcileId, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    // Its role's inline statements: SendMessage on the job queue (not the DLQ, no receive) and reading the queue key.
    const roleId = functions[reconcileId]!.Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
      p.Properties.Roles.some((r: any) => r.Ref === roleId),
    ) as any[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const jobsId = Object.entries(template.findResources('AWS::SQS::Queue')).find(
      ([, q]: any) => q.Properties.RedrivePolicy,
    )![0];
    assert.deepEqual(statements[0], {
      Action: 'sqs:SendMessage',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [jobsId, 'Arn'] },
    });
    assert.deepEqual(
      statements.slice(1).map((st) => st.Action),
      [['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']],
    );
    assert.match(JSON.stringify(statements[1]), /secret:fjord\/queue-key-/);
    assert.deepEqual(Object.keys(functions[reconcileId]!.Properties.Environment.Variables).sort(), [
      'FJORD_CONFIG',
      'FJORD_SECRET_ARNS',
      'FJORD_SQS_QUEUE_URL',
      'NODE_OPTIONS',
    ]);
  });

  it('rounds the reconcile rate up to whole minutes, and has no rule when reconcile.interval is 0', () => {
    const rate = (t: Template) =>
      (Object.values(t.findResources('AWS::Events::Rule'))[0] as any)?.Properties.ScheduleExpression;
    assert.equal(rate(synth(Duration.minutes(5), Duration.seconds(90))), 'rate(2 minutes)');
    assert.equal(rate(synth(Duration.minutes(5), Duration.seconds(20))), 'rate(1 minute)');
    const off = synth(Duration.minutes(5), Duration.millis(0));
    assert.equal(rate(off), undefined);
    assert.equal(
      Object.keys(off.findResources('AWS::Lambda::Function')).some((id) => id.startsWith('Reconcile')),
      false,
    );
  });

  it('triggers the worker from the queue with ReportBatchItemFailures and a batch of at most 10', () => {
    const [mapping, ...more] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    assert.equal(more.length, 0);
    assert.deepEqual(mapping.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.ok(mapping.Properties.BatchSize >= 1 && mapping.Properties.BatchSize <= 10);
    const workerId = mapping.Properties.FunctionName.Ref;
    assert.ok(template.toJSON().Resources[workerId], 'the mapping names the worker function');
  });

  it(`sets the queue's visibility timeout to ≥ ${VISIBILITY_FACTOR}× the worker timeout`, () => {
    for (const minutes of [5, 15]) {
      const t = minutes === 5 ? template : synth(Duration.minutes(minutes));
      const mapping = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))[0] as any;
      const workerTimeout = (t.toJSON().Resources[mapping.Properties.FunctionName.Ref] as any).Properties.Timeout;
      const jobs = (Object.values(t.findResources('AWS::SQS::Queue')) as any[]).find((q) => q.Properties.RedrivePolicy);
      assert.equal(workerTimeout, minutes * 60);
      assert.ok(
        jobs.Properties.VisibilityTimeout >= VISIBILITY_FACTOR * workerTimeout,
        `${jobs.Properties.VisibilityTimeout} < 6 × ${workerTimeout}`,
      );
    }
  });

  it('reserves concurrency for the public receiver only: an unauthenticated flood is capped and leaves the worker its share', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const reserved = (name: string) =>
      Object.entries(fns).find(([id]) => id.startsWith(name))![1].Properties.ReservedConcurrentExecutions;
    assert.equal(reserved('Receiver'), 10);
    assert.equal(reserved('Worker'), undefined);
  });

  it('gives the receiver a public function URL (auth NONE) and no wildcard action in any IAM policy', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    const statements = Object.values({
      ...template.findResources('AWS::IAM::Policy'),
      ...template.findResources('AWS::IAM::Role'),
      ...template.findResources('AWS::SQS::QueuePolicy'),
    }).flatMap((r: any) => [
      ...(r.Properties.PolicyDocument?.Statement ?? []),
      ...(r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement),
    ]);
    assert.ok(statements.length > 0);
    for (const s of statements)
      for (const action of [s.Action].flat()) assert.ok(!String(action).includes('*'), `wildcard action ${action}`);
  });

  it('lets each function read only its own secrets', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const secretsOf = (fragment: string) =>
      JSON.stringify(Object.entries(policies).find(([id]) => id.startsWith(fragment))![1])
        .match(/secret:fjord\/[a-z-]+?(?=-\?{6})/g)!
        .map((s) => s.slice('secret:'.length))
        .sort();
    // The queue key (issue 12, item 1) goes to every producer and the worker; nothing else is shared.
    assert.deepEqual(secretsOf('Receiver'), [
      'fjord/github-secret',
      'fjord/gitlab-secret',
      'fjord/gitlab-signing-key',
      'fjord/queue-key',
    ]);
    assert.deepEqual(secretsOf('Worker'), ['fjord/gitlab-token', 'fjord/queue-key', 'fjord/ssh-key']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FJORD_SECRET_ARNS: Match.anyValue(), FJORD_CONFIG: 'fjord.yaml' }) },
    });
  });

  it('plans secrets from the config names', () => {
    const plan = planSecrets(testConfig(), 'team/');
    assert.deepEqual(plan.receiver, {
      FJORD_GITLAB_SECRET: 'team/gitlab-secret',
      FJORD_GITLAB_SIGNING_KEY: 'team/gitlab-signing-key',
      FJORD_GITHUB_SECRET: 'team/github-secret',
      FJORD_QUEUE_KEY: 'team/queue-key',
    });
    assert.deepEqual(plan.reconcile, { FJORD_QUEUE_KEY: 'team/queue-key' });
    assert.equal(plan.worker.FJORD_QUEUE_KEY, 'team/queue-key');
    assert.equal(
      Object.keys(plan.worker).some((k) => k !== 'FJORD_QUEUE_KEY' && k in plan.receiver),
      false,
    );
  });

  it('gives the worker the DLQ, so a forged or malformed message is moved there at once, not deleted', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const workerId = Object.keys(functions).find((id) => id.startsWith('Worker'))!;
    const dlqId = Object.entries(template.findResources('AWS::SQS::Queue')).find(
      ([, q]: any) => !q.Properties.RedrivePolicy,
    )![0];
    assert.deepEqual(functions[workerId]!.Properties.Environment.Variables.FJORD_SQS_DLQ_URL, { Ref: dlqId });
    const roleId = functions[workerId]!.Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    assert.ok(
      statements.some((st: any) => st.Action === 'sqs:SendMessage' && st.Resource?.['Fn::GetAtt']?.[0] === dlqId),
      JSON.stringify(statements),
    );
  });

  it('gives the worker alone the age identity (Secrets Manager) once an environment has secrets.file', () => {
    assert.equal('FJORD_AGE_KEY' in planSecrets(testConfig()).worker, false, 'no app secrets: no age key asked for');
    const plan = planSecrets(
      testConfig((c) => (c.apps.api.environments.staging.secrets = { file: 'secrets/staging.enc.yaml' })),
    );
    assert.equal(plan.worker.FJORD_AGE_KEY, 'fjord/age-key');
    assert.equal('FJORD_AGE_KEY' in plan.receiver, false);
    const renamed = planSecrets(
      testConfig((c) => {
        c.apps.api.environments.staging.secrets = { file: 's.age' };
        c.secrets = { identityEnv: 'API_AGE_IDENTITY' };
      }),
    );
    assert.equal(renamed.worker.API_AGE_IDENTITY, 'fjord/api-age-identity');
  });
});

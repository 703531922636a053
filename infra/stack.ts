/**
 * fjord on AWS (DESIGN.md "Run modes", issue 5): the receiver Lambda behind a function URL (auth NONE: the
 * webhook authenticates itself with its token or signature), an SQS FIFO queue (content-based dedup off:
 * the receiver sets `<app>/<env>/<sha>` itself) with a FIFO DLQ after 5 receives and an alarm on its
 * depth, and the worker Lambda on the queue with partial batch failures. Issue 7: an EventBridge rule
 * every `reconcile.interval` invokes the reconcile Lambda, which enqueues the drift-check jobs. Least
 * privilege: each function gets only the queue actions and the secrets it uses (the reconcile Lambda:
 * sqs:SendMessage on the job queue and the queue key, nothing else), no wildcard action anywhere.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { SecretPlan } from './secret-names.js';

export interface FjordStackProps extends StackProps {
  /** Bundled code (infra/bundle.ts): each directory holds index.mjs and fjord.yaml. */
  receiverCode: lambda.Code;
  workerCode: lambda.Code;
  /** The reconcile scheduler (functions/reconcile.ts). */
  reconcileCode: lambda.Code;
  /** fjord.yaml `reconcile.interval`: the rule's rate, in whole minutes (at least 1); 0 means no schedule. */
  reconcileInterval?: Duration;
  secrets: SecretPlan;
  /** One batch's longest run; the queue's visibility timeout is 6 × this (AWS's advice for SQS triggers). */
  workerTimeout?: Duration;
  /** Records per worker invocation (1–10 on a FIFO queue). */
  batchSize?: number;
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount?: number;
  /**
   * Reserved concurrency of the public receiver (issue 12, item 6): a flood of unauthenticated requests
   * costs at most this many instances and cannot take the account's concurrency from the worker.
   */
  receiverConcurrency?: number;
}

export const VISIBILITY_FACTOR = 6;

export class FjordStack extends Stack {
  constructor(scope: Construct, id: string, props: FjordStackProps) {
    super(scope, id, props);
    const workerTimeout = props.workerTimeout ?? Duration.minutes(5);
    const batchSize = props.batchSize ?? 10;
    if (batchSize < 1 || batchSize > 10) throw new Error(`batchSize: 1–10 for a FIFO queue, not ${batchSize}`);
    const visibility = Duration.seconds(workerTimeout.toSeconds() * VISIBILITY_FACTOR);

    const dlq = new sqs.Queue(this, 'DeadLetters', {
      fifo: true,
      contentBasedDeduplication: false,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, 'Jobs', {
      fifo: true,
      contentBasedDeduplication: false,
      visibilityTimeout: visibility,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: dlq, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'fjord: a deploy job reached the dead-letter queue (`fjord queue ls --dead`)',
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const common = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
    };
    const secretsFor = (fn: lambda.Function, plan: Record<string, string>) => {
      const arns: Record<string, string> = {};
      for (const [envName, secretName] of Object.entries(plan)) {
        const secret = secretsmanager.Secret.fromSecretNameV2(this, `Secret-${fn.node.id}-${envName}`, secretName);
        secret.grantRead(fn);
        arns[envName] = secret.secretArn;
      }
      fn.addEnvironment('FJORD_SECRET_ARNS', this.toJsonString(arns));
    };
    const baseEnv = {
      FJORD_SQS_QUEUE_URL: queue.queueUrl,
      FJORD_CONFIG: 'fjord.yaml',
      NODE_OPTIONS: '--enable-source-maps',
    };

    const receiver = new lambda.Function(this, 'Receiver', {
      ...common,
      code: props.receiverCode,
      memorySize: 256,
      timeout: Duration.seconds(10), // GitLab gives up on a webhook after 10 s
      reservedConcurrentExecutions: props.receiverConcurrency ?? 10,
      environment: { ...baseEnv },
      logGroup: new logs.LogGroup(this, 'ReceiverLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    queue.grantSendMessages(receiver);
    secretsFor(receiver, props.secrets.receiver);
    const url = receiver.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    const worker = new lambda.Function(this, 'Worker', {
      ...common,
      code: props.workerCode,
      memorySize: 512,
      timeout: workerTimeout,
      environment: {
        ...baseEnv,
        FJORD_SQS_DLQ_URL: dlq.queueUrl,
        FJORD_DATA_DIR: '/tmp/fjord',
        FJORD_VISIBILITY_SECONDS: String(visibility.toSeconds()),
      },
      logGroup: new logs.LogGroup(this, 'WorkerLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    worker.addEventSource(new SqsEventSource(queue, { batchSize, reportBatchItemFailures: true }));
    secretsFor(worker, props.secrets.worker);
    // A message that is not a signed job is copied to the DLQ at once, with its reason (lib/queue/quarantine-sqs-message.ts).
    worker.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [dlq.queueArn] }));

    this.scheduleReconcile(props, queue, common, baseEnv, secretsFor);

    new CfnOutput(this, 'WebhookUrl', { value: url.url, description: 'GitLab webhook URL: append hooks/gitlab' });
    new CfnOutput(this, 'QueueUrl', { value: queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: dlq.queueUrl });
  }

  /** The reconcile Lambda and its EventBridge rule (none when `reconcile.interval` is 0). */
  private scheduleReconcile(
    props: FjordStackProps,
    queue: sqs.Queue,
    common: Pick<lambda.FunctionProps, 'runtime' | 'architecture' | 'handler'>,
    baseEnv: Record<string, string>,
    secretsFor: (fn: lambda.Function, plan: Record<string, string>) => void,
  ): void {
    const ms = (props.reconcileInterval ?? Duration.minutes(5)).toMilliseconds();
    if (ms <= 0) return;
    const fn = new lambda.Function(this, 'Reconcile', {
      ...common,
      code: props.reconcileCode,
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: { ...baseEnv },
      logGroup: new logs.LogGroup(this, 'ReconcileLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    // Only SendMessage: queue.grantSendMessages would add GetQueueAttributes and GetQueueUrl, unused here.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    secretsFor(fn, props.secrets.reconcile);
    // EventBridge rates are whole minutes; a shorter interval runs every minute.
    const rule = new events.Rule(this, 'ReconcileSchedule', {
      description: 'fjord: enqueue the drift-check (reconcile) jobs every reconcile.interval',
      schedule: events.Schedule.rate(Duration.minutes(Math.max(1, Math.ceil(ms / 60_000)))),
    });
    rule.addTarget(new targets.LambdaFunction(fn, { retryAttempts: 2 }));
  }
}

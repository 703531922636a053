/** The region an AWS SQS queue URL names (`https://sqs.<region>.amazonaws.com/…`); undefined for other URLs (a local server). */
export const regionOfQueueUrl = (queueUrl: string | undefined): string | undefined =>
  /\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(queueUrl ?? '')?.[1];

/**
 * Sending to SQS with nothing but `fetch` and a SigV4 signature (aws4fetch), for runtimes where the AWS
 * SDK is too heavy for the bundle budget: the Cloudflare Workers receiver (issue 5: ≤ 250 KB gzipped).
 * Speaks SQS's AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.SendMessage`, as the SDK does since
 * 2023) with the same request the SDK adapter sends (`sendJobInput`). Only `send`: a receiver never
 * receives, and the worker, which needs real TCP for SSH, runs on Lambda or a box with lib/queue/sqs.ts.
 */
import { AwsClient } from 'aws4fetch';
import { readAwsJsonReply } from '../aws-json-reply.js';
import { QueueUnavailable } from '../errors.js';
import type { DeployJob } from '../job.js';
import { checkSendOptions } from './check-send-options.js';
import type { Queue, SendOptions, SendResult } from './queue.js';
import { SentIds } from './sent-ids.js';
import { sendJobInput } from './sqs-requests.js';
import type { QueueKey } from './queue-key.js';

export interface SqsFetchOptions {
  queueUrl: string;
  region: string;
  /** Another SQS-compatible endpoint; default `https://sqs.<region>.amazonaws.com`. */
  endpoint?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  fetch?: typeof fetch;
  /** Signs every message (lib/queue/queue-key.ts); the worker refuses unsigned ones. */
  key: QueueKey;
}

export function createSqsFetchQueue(options: SqsFetchOptions): Queue {
  const aws = new AwsClient({
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    service: 'sqs',
    region: options.region,
    retries: 2,
  });
  const endpoint = (options.endpoint ?? `https://sqs.${options.region}.amazonaws.com`).replace(/\/+$/, '') + '/';
  const doFetch = options.fetch ?? ((req: Request) => fetch(req));
  const sent = new SentIds();
  const receiverOnly = async (): Promise<never> => {
    throw new Error('this SQS queue only sends (the worker uses lib/queue/sqs.ts)');
  };

  return {
    async send(job: DeployJob, { group, dedupId }: SendOptions): Promise<SendResult> {
      checkSendOptions(group, dedupId);
      const request = await aws.sign(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
        body: JSON.stringify(sendJobInput(options.queueUrl, job, group, dedupId, options.key)),
      });
      let response: Response;
      try {
        response = await doFetch(request);
      } catch (err) {
        throw new QueueUnavailable(`SQS SendMessage: ${(err as Error).message}`, { cause: err });
      }
      const { body, problem } = await readAwsJsonReply<{ MessageId: string }>(response);
      if (!response.ok || !body.MessageId) throw new QueueUnavailable(`SQS SendMessage: ${problem}`);
      return { messageId: body.MessageId, duplicate: sent.seenBefore(body.MessageId) };
    },
    receive: receiverOnly,
    ack: receiverOnly,
    retry: receiverOnly,
    extend: receiverOnly,
    close: async () => {},
  };
}

/**
 * One SQS message (from `ReceiveMessage`, or a record of a Lambda SQS event) → a `Received`, or the reason
 * it is not a job fjord can run. Pure, shared by the SQS poller and the Lambda worker, so both refuse the
 * same messages for the same reasons. The signature is checked before the body is parsed (STYLE.md 5): an
 * unsigned, forged or altered message is refused whatever it says.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { deployJobSchema, groupOf } from '../job.js';
import { formatIssues } from '../config/format-issues.js';
import type { Received } from './queue.js';
import { SIGNATURE_ATTRIBUTE, type QueueKey } from './queue-key.js';

/** Message attribute that carries the `DeployJob` schema version the body was written with. */
export const JOB_VERSION_ATTRIBUTE = 'fjord-job-version';
export const JOB_VERSION = '1';

/** Message attribute of a job's copy that a gate (a freeze) still holds: `1`. Only ever orders, never decides what runs. */
export const HELD_ATTRIBUTE = 'fjord-held';

/** The fields of an SQS message fjord reads, whatever API delivered it. */
export interface SqsMessageFields {
  messageId: string;
  receipt: string;
  body: string | undefined;
  /** `MessageGroupId` system attribute (FIFO queues). */
  group?: string;
  /** `ApproximateReceiveCount` system attribute, as SQS sends it (a decimal string). */
  receiveCount?: string;
  /** The `fjord-job-version` message attribute. */
  jobVersion?: string;
  /** The `fjord-signature` message attribute. */
  signature?: string;
  /** The `fjord-held` message attribute. */
  held?: string;
}

export interface MalformedMessage {
  messageId: string;
  receipt: string;
  group?: string;
  body: string | undefined;
  /** Why it is not a job, e.g. `body.tag: Invalid string` — never the body itself. */
  reason: string;
}

export type ParsedMessage = { ok: true; message: Received } | { ok: false; malformed: MalformedMessage };

export function parseSqsMessage(fields: SqsMessageFields, key: QueueKey): ParsedMessage {
  const { messageId, receipt, body, group, jobVersion } = fields;
  const bad = (reason: string): ParsedMessage => ({
    ok: false,
    malformed: { messageId, receipt, group, body, reason },
  });
  // A message without the attribute may come from a hand-made send: the body's own `v` still decides.
  if (jobVersion !== undefined && jobVersion !== JOB_VERSION)
    return bad(`${JOB_VERSION_ATTRIBUTE} ${JSON.stringify(jobVersion)} is not supported`);
  if (body === undefined) return bad('message has no body');
  const refused = key.refusal(body, fields.signature);
  if (refused) return bad(refused);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return bad('body is not JSON');
  }
  const result = deployJobSchema.safeParse(value);
  if (!result.success)
    return bad(`body is not a DeployJob: ${formatIssues(result.error.issues).slice(0, 3).join('; ')}`);
  const job = result.data;
  const attempts = Number(fields.receiveCount);
  return {
    ok: true,
    message: {
      messageId,
      receipt,
      group: group ?? groupOf(job),
      job,
      // SQS always sends it when asked; 1 is the only safe floor if a server leaves it out.
      attempts: Number.isInteger(attempts) && attempts > 0 ? attempts : 1,
      ...(fields.held === '1' ? { held: true } : {}),
    },
  };
}

/** The fields of a message from the SDK's ReceiveMessage (asked for with `receiveInput`). */
export function fieldsOfSdkMessage(m: Message): SqsMessageFields {
  return {
    messageId: m.MessageId ?? '',
    receipt: m.ReceiptHandle ?? '',
    body: m.Body,
    group: m.Attributes?.MessageGroupId,
    receiveCount: m.Attributes?.ApproximateReceiveCount,
    jobVersion: m.MessageAttributes?.[JOB_VERSION_ATTRIBUTE]?.StringValue,
    signature: m.MessageAttributes?.[SIGNATURE_ATTRIBUTE]?.StringValue,
    held: m.MessageAttributes?.[HELD_ATTRIBUTE]?.StringValue,
  };
}

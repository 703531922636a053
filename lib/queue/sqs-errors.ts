/**
 * AWS SDK errors → fjord's named errors, at the edge of the SQS adapter: nothing above it reads SDK error
 * names or messages. No answer from SQS, a 5xx or throttling → `QueueUnavailable` (the receiver answers
 * 503 and GitLab sends again); a receipt SQS no longer honours → `StaleReceipt`; anything else is a
 * set-up problem a retry will not fix → `SqsRequestRefused`.
 */
import { FjordError, QueueUnavailable } from '../errors.js';
import { StaleReceipt } from './queue.js';

/** SQS refused the request for a reason that will not go away by itself (no such queue, access denied…). */
export class SqsRequestRefused extends FjordError {
  constructor(
    readonly operation: string,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`SQS ${operation} refused (${code}): ${message}`, options);
  }
}

interface SdkError {
  name?: string;
  message?: string;
  Code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

// A FIFO queue answers a receipt whose visibility ran out with InvalidParameterValue "The receipt handle
// has expired" (DeleteMessage) or MessageNotInflight (ChangeMessageVisibility).
const STALE = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight']);
const STALE_TEXT = /receipt ?handle|not available for visibility timeout change|message does not exist/i;
const BUSY = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'KmsThrottled',
  'OverLimit',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
]);
// Errors raised on this side before any answer that are set-up problems, not outages.
const LOCAL_SETUP = new Set(['CredentialsProviderError', 'TypeError', 'RangeError']);

export function convertSqsError(err: unknown, operation: string, messageId?: string): Error {
  if (err instanceof FjordError || err instanceof StaleReceipt) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? 'Error';
  const code = e.Code ?? name;
  const message = e.message ?? String(err);
  const status = e.$metadata?.httpStatusCode;
  if (
    messageId !== undefined &&
    (STALE.has(name) || STALE.has(code) || (/InvalidParameterValue/.test(code) && STALE_TEXT.test(message)))
  ) {
    return new StaleReceipt(messageId);
  }
  if (status === undefined && !LOCAL_SETUP.has(name)) {
    return new QueueUnavailable(
      `SQS ${operation}: no answer from SQS (${(err as { code?: string }).code ?? name}: ${message})`,
      { cause: err },
    );
  }
  if ((status !== undefined && status >= 500) || e.$fault === 'server' || BUSY.has(name) || BUSY.has(code)) {
    return new QueueUnavailable(`SQS ${operation}: SQS is unavailable (${code}${status ? `, HTTP ${status}` : ''})`, {
      cause: err,
    });
  }
  return new SqsRequestRefused(operation, code, message, { cause: err });
}

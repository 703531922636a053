/** Group and dedupId rules of SQS FIFO, enforced by every adapter so both behave alike. */
import { InvalidSendOptions } from './errors.js';

// SQS: 1–128 characters from alphanumerics and !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
const ID = /^[\x21-\x7e]{1,128}$/;

export function checkSendOptions(group: string, dedupId: string): void {
  if (!ID.test(group))
    throw new InvalidSendOptions(`queue group ${JSON.stringify(group)}: 1–128 printable ASCII characters`);
  if (!ID.test(dedupId))
    throw new InvalidSendOptions(`queue dedupId ${JSON.stringify(dedupId)}: 1–128 printable ASCII characters`);
}

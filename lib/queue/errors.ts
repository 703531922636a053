/** Named errors of the embedded queue (lib/queue/local). */
import { FjordError } from '../errors.js';

/** Another live process (or another open in this one) holds the queue directory for writing. */
export class QueueLocked extends FjordError {
  override status = 503;
  constructor(
    readonly dir: string,
    readonly pid?: number,
  ) {
    super(
      `queue ${dir} is open for writing in another process${pid ? ` (pid ${pid})` : ''}; stop it or use a different FJORD_DATA_DIR`,
    );
  }
}

/** The journal has an unreadable record that is not a torn tail: refuse rather than drop jobs silently. */
export class QueueCorrupt extends FjordError {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: unreadable queue journal record (${reason}); keep a copy of the file and inspect it`);
  }
}

/** A group or dedupId that SQS FIFO would refuse too (1–128 printable ASCII characters). */
export class InvalidSendOptions extends FjordError {
  override status = 422;
}

/** A group already holds as many messages as it may (`maxPerGroup`): the sender retries later (503). */
export class QueueFull extends FjordError {
  override status = 503;
}

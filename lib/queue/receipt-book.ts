/**
 * The receipts one SQS client handed out, with the time each stops being valid. SQS FIFO itself refuses an
 * expired receipt (DeleteMessage: "The receipt handle has expired"), but not every SQS-compatible server
 * does, and a receipt that was acked or retried once must not work twice: the book answers those cases
 * before a request is made. Receipts it does not know (another process, a Lambda event) go to SQS as they
 * are. Deadlines are counted from when SQS's answer arrived, so never earlier than SQS's own: the book may
 * let a just-expired receipt through to SQS (which refuses it), never refuse one SQS would still take.
 */
export class ReceiptBook {
  readonly #entries = new Map<string, { deadline: number; done: boolean }>();
  readonly #latest = new Map<string, string>(); // messageId → its newest receipt

  constructor(
    private readonly now: () => number = Date.now,
    private readonly keepMs = 15 * 60_000,
  ) {}

  /** A receive returned `receipt` for `messageId`, hidden until `deadline`; older receipts of it are void. */
  hold(messageId: string, receipt: string, deadline: number): void {
    this.#prune();
    const older = this.#latest.get(messageId);
    if (older !== undefined && older !== receipt) this.#end(older);
    this.#latest.set(messageId, receipt);
    this.#entries.set(receipt, { deadline, done: false });
  }

  /** False when this process knows the receipt can no longer be used (expired, acked, retried). */
  usable(receipt: string): boolean {
    const e = this.#entries.get(receipt);
    return !e || (!e.done && this.now() < e.deadline);
  }

  extend(receipt: string, deadline: number): void {
    const e = this.#entries.get(receipt);
    if (e) e.deadline = deadline;
  }

  /** The receipt was used up (ack, retry) or refused by SQS. */
  end(receipt: string): void {
    this.#end(receipt);
  }

  #end(receipt: string): void {
    const e = this.#entries.get(receipt);
    if (e) e.done = true;
  }

  #prune(): void {
    const cutoff = this.now() - this.keepMs;
    for (const [receipt, e] of this.#entries) if (e.deadline < cutoff) this.#entries.delete(receipt);
    for (const [id, receipt] of this.#latest) if (!this.#entries.has(receipt)) this.#latest.delete(id);
  }
}

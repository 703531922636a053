/**
 * MessageIds this process got back from SendMessage within the SQS deduplication window (5 minutes).
 * SQS answers a deduplicated send with the first send's MessageId and nothing else to tell it apart; a
 * MessageId seen before is therefore a duplicate. Fresh sends always get a new MessageId.
 */
export class SentIds {
  readonly #seen = new Map<string, number>(); // MessageId → when first seen

  constructor(
    private readonly windowMs = 300_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records `messageId`; true when it was already recorded within the window. */
  seenBefore(messageId: string): boolean {
    const now = this.now();
    for (const [id, at] of this.#seen) {
      if (now - at < this.windowMs) break; // insertion order = time order
      this.#seen.delete(id);
    }
    if (this.#seen.has(messageId)) return true;
    this.#seen.set(messageId, now);
    return false;
  }
}

/**
 * Deliveries the receiver already queued, remembered for days (issue 12, item 2): a GitLab "Resend" keeps
 * its Idempotency-Key, a GitHub "Redeliver" its X-GitHub-Delivery, and either may come long after the
 * queue's 5-minute dedup window — after a rollback, which the replay must not undo. Bounded by age and by
 * count. Embedded mode keeps it in a file under the data directory (one `<ms> <key>` line per delivery,
 * appended; compacted when it holds twice the entries kept), so a restart remembers too. Serverless
 * receivers have no disk: the SQS window, then the manifest history's `Fjord-Delivery` trailer, cover them.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface DeliveryLogOptions {
  maxAgeMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export const DELIVERY_MAX_AGE_MS = 7 * 24 * 3600_000;
export const DELIVERY_MAX_ENTRIES = 100_000;
const KEY = /^[A-Za-z0-9._:-]{1,250}$/;

export class DeliveryLog {
  readonly #seen = new Map<string, number>(); // key → when recorded; insertion order = time order
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #lines = 0;
  /** The file opened for appending once, not per delivery (issue 15, item 1); reopened after a compaction. */
  #fd?: number;

  constructor(
    private readonly file?: string,
    { maxAgeMs = DELIVERY_MAX_AGE_MS, maxEntries = DELIVERY_MAX_ENTRIES, now = Date.now }: DeliveryLogOptions = {},
  ) {
    this.#maxAgeMs = maxAgeMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
    if (file) this.#load(file);
  }

  /** True when any of `keys` was recorded within the age limit. */
  seen(keys: readonly string[]): boolean {
    this.#prune();
    return keys.some((k) => this.#seen.has(k));
  }

  /** Remembers `keys` (after their jobs are queued: a delivery that got a 503 is not one). */
  record(keys: readonly string[]): void {
    const at = this.#now();
    const fresh = keys.filter((k) => KEY.test(k));
    for (const k of fresh) {
      this.#seen.delete(k);
      this.#seen.set(k, at);
    }
    this.#prune();
    if (!this.file || fresh.length === 0) return;
    this.#fd ??= openSync(this.file, 'a', 0o600);
    const data = Buffer.from(fresh.map((k) => `${at} ${k}\n`).join(''));
    for (let done = 0; done < data.length; ) done += writeSync(this.#fd, data, done);
    this.#lines += fresh.length;
    if (this.#lines > 2 * this.#maxEntries) this.#compact(this.file);
  }

  get size(): number {
    return this.#seen.size;
  }

  #prune(): void {
    const oldest = this.#now() - this.#maxAgeMs;
    for (const [k, at] of this.#seen) {
      if (at >= oldest && this.#seen.size <= this.#maxEntries) break;
      this.#seen.delete(k);
    }
  }

  #load(file: string): void {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const entries = text.split('\n').flatMap((line) => {
      const m = /^(\d{1,16}) (\S+)$/.exec(line); // a torn last line (kill -9 mid-append) is skipped
      return m && KEY.test(m[2]!) ? [[m[2]!, Number(m[1])] as const] : [];
    });
    for (const [k, at] of entries.sort((a, b) => a[1] - b[1])) {
      this.#seen.delete(k);
      this.#seen.set(k, at);
    }
    this.#prune();
    this.#compact(file);
  }

  #compact(file: string): void {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, [...this.#seen].map(([k, at]) => `${at} ${k}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, file);
    // The descriptor still points at the file the rename replaced.
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#lines = this.#seen.size;
  }
}

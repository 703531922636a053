/**
 * Append-only journal file with group commit: every record appended while a write is under way (or
 * within the same event-loop turn) goes out in one synchronous-data (O_DSYNC) write, and each caller's promise resolves
 * only once its record is on disk. Compaction replaces the file with a snapshot of the state (temp file,
 * fsync, rename, fsync of the directory), so a crash leaves either the old journal or the new one.
 */
import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { QueueUnavailable } from '../errors.js';
import { JOURNAL_VERSION, type JournalRecord } from './records.js';

/**
 * Flags of a journal file opened for synchronous data writes (undefined where the platform has no O_DSYNC:
 * there each batch is followed by an fdatasync). One system call per batch instead of a write and an
 * fdatasync, each a round trip through libuv's thread pool: under load the second hop was a large part of a
 * send's wait (issue 15, item 1).
 */
const WRITE_DSYNC =
  constants.O_DSYNC === undefined
    ? undefined
    : constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC;

export interface JournalOptions {
  file: string;
  /** fdatasync every batch (off only for tests and benchmarks that measure something else). */
  fsync: boolean;
  /** Compact once this many bytes were appended since the last snapshot (and more than the snapshot). */
  compactBytes: number;
  /** The full current state as records; called synchronously when a compaction starts. */
  snapshot: () => Iterable<JournalRecord>;
  now: () => number;
}

/** Counters since open: `records / writes` is how many records one write + fdatasync carried. */
export interface JournalStats {
  records: number;
  writes: number;
  compactions: number;
}

interface Batch {
  lines: string[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Journal {
  readonly #o: JournalOptions;
  #fh?: FileHandle;
  #pending?: Batch;
  #writing?: Batch;
  #active = false;
  #wantCompact = false;
  #stopped?: Error;
  #closing = false;
  #bytesSince = 0;
  #snapshotBytes = 0;
  readonly stats: JournalStats = { records: 0, writes: 0, compactions: 0 };
  /** The file is opened O_DSYNC: each write returns once its bytes are on disk, as write + fdatasync would. */
  readonly #dsync: boolean;

  private constructor(options: JournalOptions) {
    this.#o = options;
    this.#dsync = options.fsync && WRITE_DSYNC !== undefined;
  }

  /** Opens for appending by first writing a snapshot of the (replayed) state: this also drops a torn tail. */
  static async open(options: JournalOptions): Promise<Journal> {
    const journal = new Journal(options);
    await rm(options.file + '.tmp', { force: true });
    await journal.#compact();
    return journal;
  }

  /**
   * Resolves once `record` is durable. Records reach the file in the order they were appended. `line` is
   * the record as JSON when the caller already has it (records.ts sendRecordLine).
   */
  append(record: JournalRecord, line?: string): Promise<void> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    if (this.#closing) return Promise.reject(new QueueUnavailable('queue is closed'));
    const batch = this.#batch();
    batch.lines.push(line ?? JSON.stringify(record));
    this.#kick();
    return batch.promise;
  }

  /** Resolves once everything appended so far is durable. */
  flush(): Promise<void> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    return (this.#pending ?? this.#writing)?.promise ?? Promise.resolve();
  }

  /** Rewrites the file as a snapshot now (tests; the size threshold triggers it otherwise). */
  compact(): Promise<void> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    if (this.#closing) return Promise.reject(new QueueUnavailable('queue is closed'));
    this.#wantCompact = true;
    const batch = this.#batch();
    this.#kick();
    return batch.promise;
  }

  /** Writes what is pending, then closes the file; later appends fail with QueueUnavailable. */
  async close(): Promise<void> {
    this.#closing = true; // nothing new joins, so the flush below is the last batch
    await this.flush().catch(() => {});
    this.#stopped ??= new QueueUnavailable('queue is closed');
    await this.#fh?.close();
    this.#fh = undefined;
  }

  #batch(): Batch {
    if (this.#pending) return this.#pending;
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // callers see the rejection; a batch nobody awaits must not crash the process
    this.#pending = { lines: [], promise, resolve, reject };
    return this.#pending;
  }

  #kick(): void {
    if (this.#active) return;
    this.#active = true;
    // One turn of the event loop lets concurrent callers join the first batch too.
    setImmediate(() => void this.#run());
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending && !this.#stopped) {
        const big = this.#bytesSince > this.#o.compactBytes && this.#bytesSince > this.#snapshotBytes;
        if (this.#wantCompact || big) await this.#compact();
        else await this.#write();
      }
    } catch (err) {
      // Memory already holds the changes that failed to reach the disk: stop taking any, loudly.
      this.#stopped = new QueueUnavailable(`queue journal ${this.#o.file}: write failed, reopen the queue`, {
        cause: err,
      });
      this.#writing?.reject(this.#stopped);
      this.#pending?.reject(this.#stopped);
    } finally {
      this.#writing = undefined;
      this.#active = false;
    }
  }

  async #write(): Promise<void> {
    const batch = this.#pending!;
    this.#writing = batch;
    this.#pending = undefined;
    const data = Buffer.from(batch.lines.join('\n') + '\n');
    await writeAll(this.#fh!, data);
    if (this.#o.fsync && !this.#dsync) await this.#fh!.datasync();
    this.#bytesSince += data.length;
    this.stats.writes += 1;
    this.stats.records += batch.lines.length;
    this.#writing = undefined;
    batch.resolve();
  }

  async #compact(): Promise<void> {
    // The snapshot is taken from memory, which already holds the pending records: they are in it, so
    // they are not written again, and their callers are answered when the snapshot is durable.
    const batch = this.#pending;
    this.#writing = batch;
    this.#pending = undefined;
    this.#wantCompact = false;
    const lines = [JSON.stringify({ op: 'head', v: JOURNAL_VERSION, at: this.#o.now() } satisfies JournalRecord)];
    for (const record of this.#o.snapshot()) lines.push(JSON.stringify(record));
    const data = Buffer.from(lines.join('\n') + '\n');
    const tmp = this.#o.file + '.tmp';
    const fh = await open(tmp, this.#dsync ? WRITE_DSYNC : 'w', 0o600); // jobs name projects, authors and MRs: the owner's alone
    try {
      await writeAll(fh, data);
      if (this.#o.fsync && !this.#dsync) await fh.datasync();
      await rename(tmp, this.#o.file);
      if (this.#o.fsync) await syncDir(dirname(this.#o.file));
    } catch (err) {
      await fh.close();
      throw err;
    }
    // The renamed file's handle is positioned at its end: later batches append to it.
    const old = this.#fh;
    this.#fh = fh;
    await old?.close();
    this.#bytesSince = 0;
    this.#snapshotBytes = data.length;
    this.stats.compactions += 1;
    this.stats.records += batch?.lines.length ?? 0;
    this.#writing = undefined;
    batch?.resolve();
  }
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await fh.write(data, done, data.length - done);
    done += bytesWritten;
  }
}

/** Makes a rename in `dir` durable (POSIX: the directory entry lives in the directory's own data). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

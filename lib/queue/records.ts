/**
 * The journal of the embedded queue: one JSON record per line, appended in the order the changes were
 * made in memory, so replaying a prefix always gives a state the queue really was in. Records carry
 * every value that was computed (ids, receipts, times): replay is deterministic.
 */
import type { DeployJob } from '../job.js';
import { QueueCorrupt } from './errors.js';

export const JOURNAL_VERSION = 1;

export type JournalRecord =
  /** First line of every journal file. */
  | { op: 'head'; v: number; at: number }
  /** `sig`: the job's signature under the queue key (lib/queue/queue-key.ts), checked at every receive. */
  | { op: 'send'; id: string; group: string; dedup: string; job: DeployJob; at: number; sig?: string }
  /** Written by compaction: a whole message in its current state. */
  | {
      op: 'put';
      id: string;
      group: string;
      dedup: string;
      job: DeployJob;
      at: number;
      attempts: number;
      visibleAt: number;
      receipt?: string;
      dead?: true;
      sig?: string;
      deadReason?: string;
    }
  /** A receive: attempts + 1, hidden until `visibleAt`, only `receipt` may ack/retry/extend it. */
  | { op: 'recv'; id: string; receipt: string; visibleAt: number }
  | { op: 'ack'; id: string }
  /** End of this receive: visible again at `visibleAt`; `refund`: a deferral (a gate held it), the receive not counted. */
  | { op: 'retry'; id: string; visibleAt: number; refund?: true }
  | { op: 'extend'; id: string; visibleAt: number }
  /** To the dead letters: out of attempts, or `reason` (e.g. a signature that does not match). */
  | { op: 'dead'; id: string; reason?: string }
  /** Replaced by a newer deploy of its group (`by`), or outdated on arrival (coalesce.ts): not run. */
  | { op: 'drop'; id: string; by: string }
  /** Written by compaction: the dedup entry of a message that is already gone. */
  | { op: 'dedup'; key: string; id: string; at: number };

type SendRecord = Extract<JournalRecord, { op: 'send' }>;

/**
 * The journal line of a send, with the job's JSON given as it was signed: the same bytes as
 * `JSON.stringify(record)`, without serializing the job a second time (issue 15, item 1).
 */
export function sendRecordLine(r: SendRecord, jobJson: string): string {
  const s = JSON.stringify;
  const sig = r.sig === undefined ? '' : `,"sig":${s(r.sig)}`;
  return `{"op":"send","id":${s(r.id)},"group":${s(r.group)},"dedup":${s(r.dedup)},"job":${jobJson},"at":${s(r.at)}${sig}}`;
}

export interface ParsedJournal {
  records: JournalRecord[];
  /** Bytes up to the end of the last good record; anything after it is a torn write. */
  goodBytes: number;
  /** True when a torn tail was found (and ignored). */
  torn: boolean;
}

/**
 * Splits journal text into records. A kill -9 can only tear the end of the file (appends are
 * sequential), so unreadable lines at the tail are ignored; an unreadable line followed by a good one
 * is real damage and throws `QueueCorrupt`.
 */
export function parseJournal(data: Buffer, file: string): ParsedJournal {
  const records: JournalRecord[] = [];
  let start = 0;
  let goodBytes = 0;
  let badLine = 0;
  let badReason = '';
  // Work on bytes: '\n' never occurs inside a multi-byte UTF-8 sequence, and offsets stay byte offsets.
  for (let line = 1; start < data.length; line++) {
    const end = data.indexOf(0x0a, start);
    // A last line without its newline was cut short while being written.
    const record = end < 0 ? 'no line end' : parseRecord(data.toString('utf8', start, end));
    if (typeof record !== 'string') {
      if (badLine) throw new QueueCorrupt(file, badLine, badReason);
      records.push(record);
      goodBytes = end + 1;
    } else if (!badLine) {
      badLine = line;
      badReason = record;
    }
    if (end < 0) break;
    start = end + 1;
  }
  const head = records[0];
  if (head && (head.op !== 'head' || head.v !== JOURNAL_VERSION)) {
    throw new QueueCorrupt(file, 1, `expected a version ${JOURNAL_VERSION} head record`);
  }
  return { records, goodBytes, torn: badLine > 0 };
}

/** The record, or a reason it is unreadable. */
function parseRecord(raw: string): JournalRecord | string {
  if (raw.trim() === '') return 'empty line';
  try {
    const value = JSON.parse(raw) as JournalRecord;
    if (typeof value !== 'object' || value === null || typeof value.op !== 'string') return 'not a record';
    return value;
  } catch {
    return 'not JSON';
  }
}

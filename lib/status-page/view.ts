/**
 * What the status page shows (issue 7 part 4), as plain data: the drift report and the last deploys from
 * the manifest history. `statusSource()` builds it (status-source.ts); `renderStatusPage` turns it into
 * HTML without any I/O, so the renderer is tested on its own.
 */
import type { Holds } from '../holds/hold.js';
import type { DriftReport } from '../reconcile/drift.js';

export interface DeployRow {
  commitId: string;
  /** First line of the commit message. */
  subject: string;
  author: string;
  /** ISO 8601. */
  authoredAt: string;
  /** `app/env` from the `Fjord-App`/`Fjord-Environment` trailers, else the environments using the file. */
  where: string;
  /** `Key: value` trailers of the commit (`Fjord-Source`, `Fjord-MR`, `Fjord-Reason`, …). */
  trailers: Record<string, string>;
  /** A rollback commit's body: what the failed host reported (its error, state, probes, log lines). */
  details?: string;
  /** Links (manifest backend gitlab, or apps whose source is on GitLab): absent otherwise. */
  commitUrl?: string;
  sourceUrl?: string;
  mrUrl?: string;
}

export interface StatusView {
  /** When this view was put together (ISO 8601). */
  generatedAt: string;
  /** The drift report; absent when the check itself could not run (see `error`). */
  report?: DriftReport;
  /** Why there is no report (e.g. no SSH key configured). */
  error?: string;
  deploys: DeployRow[];
  /** Why the history could not be read (the hosts table is still shown). */
  deploysError?: string;
  /** Held environments from the holds file (`.fjord/holds.yaml`); absent when not read. */
  holds?: Holds;
  /** Why the holds file could not be read. */
  holdsError?: string;
  /** A newer check is under way: this view is the previous one, served so the page answers quickly. */
  refreshing?: boolean;
}

/** The port the page reads from: the embedded mode builds one from checkDrift + the manifest history. */
export type StatusSource = () => Promise<StatusView>;

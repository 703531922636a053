/**
 * Writes and clears the self-heal records (heal-record.ts) on a set of hosts. Best effort by design: a host
 * that cannot be reached keeps whatever it had, and the names of the hosts that failed are returned for
 * the log. The ledger only ever errs towards "an attempt was made" (written before the rollout), so a
 * lost write can cost a heal attempt, never add a loop.
 */
import type { Fleet } from '../ssh/fleet.js';
import { clearHealRecordCommand, writeHealRecordCommand, type HealRecord } from './heal-record.js';

export interface LedgerTarget {
  fleet: Fleet;
  stateDir: string;
  app: string;
  environment: string;
}

async function onEach(fleet: Fleet, hosts: readonly string[], argv: readonly string[]): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    hosts.map(async (host) => {
      try {
        await (await fleet.session(host)).run(argv, { step: 'record', timeoutMs: 15_000 });
      } catch {
        failed.push(host);
      }
    }),
  );
  return failed.sort();
}

/** Writes `record` on every host in `hosts`; returns the hosts where that failed. */
export const writeHealRecords = (t: LedgerTarget, hosts: readonly string[], record: HealRecord): Promise<string[]> =>
  onEach(t.fleet, hosts, writeHealRecordCommand(t.stateDir, t.app, t.environment, record));

/** Removes the record from every host in `hosts`; returns the hosts where that failed. */
export const clearHealRecords = (t: LedgerTarget, hosts: readonly string[]): Promise<string[]> =>
  onEach(t.fleet, hosts, clearHealRecordCommand(t.stateDir, t.app, t.environment));

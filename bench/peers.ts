/**
 * `npm run bench peers`: fjord against the tools people would use instead, measured interleaved in one
 * run on the same machine — adnanh/webhook for the receiver (bench/peers-webhook.ts) and Ansible for the
 * rollout (bench/peers-ansible.ts). Each half is skipped, with a message saying what to install, when its
 * tools are missing; the other half still runs.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { benchAnsiblePeer, type AnsiblePeerRow } from './peers-ansible.js';
import { benchWebhookPeer, type PeerRps } from './peers-webhook.js';

export type Skipped = { skipped: string };

export interface PeersResult {
  /** `ratio`: the lower of fjord req/s ÷ webhook req/s at 16 and 64 connections (aim ≥ 2). */
  webhook: { ratio: number; rows: PeerRps[] } | Skipped;
  /** Per host count: fjord seconds ÷ Ansible seconds (aim ≤ 0.25). */
  ansible: AnsiblePeerRow[] | Skipped;
}

/** The tools of `names` not found on PATH. */
export function missingTools(names: string[], path = process.env.PATH ?? ''): string[] {
  const found = (name: string) =>
    path.split(delimiter).some((dir) => {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return names.filter((n) => !found(n));
}

const skip = (missing: string[], packages: string): Skipped => {
  const skipped = `skipped: ${missing.join(', ')} not installed (apt-get install ${packages})`;
  console.error(`bench peers: ${skipped}`);
  return { skipped };
};

export async function benchPeers(
  o: { webhook?: Parameters<typeof benchWebhookPeer>[0]; ansible?: Parameters<typeof benchAnsiblePeer>[0] } = {},
): Promise<PeersResult> {
  const noWebhook = missingTools(['webhook', 'wrk']);
  const webhook =
    noWebhook.length > 0
      ? skip(noWebhook, 'webhook wrk')
      : await benchWebhookPeer(o.webhook).then((rows) => ({ ratio: Math.min(...rows.map((r) => r.ratio)), rows }));
  const noAnsible = missingTools(['ansible-playbook']);
  const ansible = noAnsible.length > 0 ? skip(noAnsible, 'ansible') : await benchAnsiblePeer(o.ansible);
  return { webhook, ansible };
}

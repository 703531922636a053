/** The deploys table's order: newest first as git has it, also for commits made within the same second. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseConfig } from '../../lib/config/index.js';
import type { HistoryEntry, ManifestStore } from '../../lib/manifest/store.js';
import { recentDeploys } from '../../lib/status-page/recent-deploys.js';

const config = parseConfig(
  stringify({
    sources: { gitlab: {} },
    manifest: { backend: 'git', repository: './m.git' },
    apps: {
      api: {
        source: { project: 'acme/api' },
        image: 'r.example.com/acme/api',
        environments: {
          staging: { manifest: { file: 'api/staging.yaml' } },
          prod: { manifest: { file: 'api/prod.yaml' } },
        },
      },
    },
  }),
);

const entry = (commitId: string, subject: string, authoredAt: string): HistoryEntry => ({
  commitId,
  message: `${subject}\n`,
  trailers: {},
  authoredAt,
  author: { name: 'Ada', email: 'ada@example.com' },
});

/** A store that answers `history` from fixed per-file lists (each newest first, as `git log` gives them). */
const storeOf = (histories: Record<string, HistoryEntry[]>) =>
  ({ history: async (file: string) => histories[file] ?? [] }) as unknown as ManifestStore;

describe('recent deploys order', () => {
  it('keeps git order for commits with the same author second, across files whose histories share commits', async () => {
    // Everything in one second, as a fast test (or a fast person) makes it. The staging file is read
    // first and its history only has the initial commit: a sort by date alone put it above v41.
    const t = '2026-12-03T01:00:00Z';
    const initial = entry('a1', 'initial manifests', t);
    const rows = await recentDeploys(
      config,
      storeOf({
        'api/staging.yaml': [initial],
        'api/prod.yaml': [entry('c3', 'deploy v42', t), entry('b2', 'deploy v41', t), initial],
      }),
    );
    assert.deepEqual(
      rows.map((r) => r.subject),
      ['deploy v42', 'deploy v41', 'initial manifests'],
    );
  });

  it('interleaves files by author date, newest first, each commit once', async () => {
    const rows = await recentDeploys(
      config,
      storeOf({
        'api/staging.yaml': [
          entry('s2', 'staging v2', '2026-12-03T01:00:30Z'),
          entry('s1', 'staging v1', '2026-12-03T01:00:10Z'),
          entry('a1', 'initial', '2026-12-03T01:00:00Z'),
        ],
        'api/prod.yaml': [
          entry('p1', 'prod v1', '2026-12-03T01:00:20Z'),
          entry('a1', 'initial', '2026-12-03T01:00:00Z'),
        ],
      }),
    );
    assert.deepEqual(
      rows.map((r) => r.subject),
      ['staging v2', 'prod v1', 'staging v1', 'initial'],
    );
  });
});

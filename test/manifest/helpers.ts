/** Shared pieces of the manifest store tests: a values file with two tags, a regex tag edit, jobs. */
import type { MessageJob } from '../../lib/manifest/commit-message.js';
import type { Edit } from '../../lib/manifest/commit-with-retry.js';
import type { ManifestStore } from '../../lib/manifest/store.js';

export const FILE = 'prod/values.yaml';
export const VALUES = `# Helm values for production (comments must survive)
api:
  image: registry.example.com/acme/api
  tag: "1.0.0"
worker:
  image: registry.example.com/acme/worker
  tag: "1.0.0"
`;

/** Sets `<block>.tag` with a plain regex (the real YAML editor lives elsewhere); null when already set. */
export const setTag =
  (block: string, tag: string): Edit =>
  (content) => {
    const re = new RegExp(`^(${block}:\\n(?:[ ].*\\n)*?  tag: ).*$`, 'm');
    if (!re.test(content)) throw new Error(`no ${block}.tag in the file`);
    const next = content.replace(re, `$1"${tag}"`);
    return next === content ? null : next;
  };

export const tagOf = (content: string, block: string): string | undefined =>
  new RegExp(`^${block}:\\n(?:[ ].*\\n)*?  tag: "([^"]*)"$`, 'm').exec(content)?.[1];

export const job = (app: string, tag: string, over: Partial<MessageJob> = {}): MessageJob => ({
  id: `job-${app}-${tag.replace(/\W/g, '_')}`,
  app,
  environment: 'prod',
  image: `registry.example.com/acme/${app}`,
  tag,
  sha: 'c0ffee'.padEnd(40, '0'),
  reason: 'merge',
  source: { project: `acme/${app}`, mr: 7, author: 'Ada Person' },
  ...over,
});

/** Resolves once `n` callers have arrived: forces two workers to read the same version. */
export function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived >= n) open();
    return gate;
  };
}

/** A store that delegates to `store` except for the methods in `overrides`. */
export function wrapStore(store: ManifestStore, overrides: Partial<Omit<ManifestStore, 'branch'>>): ManifestStore {
  return {
    branch: store.branch,
    read: (file) => store.read(file),
    readAt: (file, id) => store.readAt(file, id),
    commit: (request) => store.commit(request),
    history: (file, options) => store.history(file, options),
    openMergeRequest: (request) => store.openMergeRequest(request),
    ...overrides,
  };
}

/** A store whose first read waits at `wait`, so that two workers hold the same version before committing. */
export function gatedOnFirstRead(store: ManifestStore, wait: () => Promise<void>): ManifestStore {
  let first = true;
  return wrapStore(store, {
    async read(file) {
      const result = await store.read(file);
      if (first) {
        first = false;
        await wait();
      }
      return result;
    },
  });
}

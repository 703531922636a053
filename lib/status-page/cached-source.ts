/**
 * A `StatusSource` with a short cache, so reloading the page does not SSH to every host each time:
 * a view younger than `ttlMs` is served as is; an older one triggers one check (concurrent requests share
 * it), and a request waits for that check at most `waitMs` before it gets the previous view marked
 * `refreshing`. The very first request waits up to `firstWaitMs`, then gets an empty `refreshing` view
 * (a host whose commands hang could otherwise hold the page for `ssh.commandTimeout`).
 */
import type { Holds } from '../holds/hold.js';
import type { DriftReport } from '../reconcile/drift.js';
import { scrub } from '../secret.js';
import type { DeployRow, StatusSource, StatusView } from './view.js';

export interface CachedSourceOptions {
  check(): Promise<DriftReport>;
  deploys(): Promise<DeployRow[]>;
  /** The held environments (lib/holds); without it the page shows none. */
  holds?(): Promise<Holds>;
  ttlMs?: number;
  waitMs?: number;
  firstWaitMs?: number;
  now?: () => number;
}

// The page shows why a part is missing; named errors already say it in fjord's words.
const reason = (err: unknown): string => scrub(err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export function cachedStatusSource({
  check,
  deploys,
  holds,
  ttlMs = 10_000,
  waitMs = 2_000,
  firstWaitMs = 15_000,
  now = Date.now,
}: CachedSourceOptions): StatusSource {
  let current: { view: StatusView; at: number } | undefined;
  let pending: Promise<StatusView> | undefined;

  async function build(): Promise<StatusView> {
    const [report, history, held] = await Promise.allSettled([
      check(),
      deploys(),
      holds ? holds() : Promise.resolve(undefined),
    ]);
    const view: StatusView = {
      generatedAt: new Date(now()).toISOString(),
      deploys: history.status === 'fulfilled' ? history.value : [],
    };
    if (report.status === 'fulfilled') view.report = report.value;
    else view.error = reason(report.reason);
    if (history.status === 'rejected') view.deploysError = reason(history.reason);
    // A hold's by and reason are a person's text: known secrets are masked before the page shows them.
    if (held.status === 'fulfilled' && held.value)
      view.holds = Object.fromEntries(
        Object.entries(held.value).map(([k, h]) => [k, { ...h, by: scrub(h.by), reason: scrub(h.reason) }]),
      );
    else if (held.status === 'rejected') view.holdsError = reason(held.reason);
    current = { view, at: now() };
    return view;
  }
  const refresh = (): Promise<StatusView> => (pending ??= build().finally(() => (pending = undefined)));
  const served = (view: StatusView, refreshing = false): StatusView => ({
    ...view,
    generatedAt: new Date(now()).toISOString(),
    ...(refreshing ? { refreshing } : {}),
  });

  return async () => {
    if (current && now() - current.at < ttlMs) return served(current.view);
    const fresh = refresh();
    const previous = current?.view ?? { generatedAt: '', deploys: [] };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), current ? waitMs : firstWaitMs);
    });
    try {
      const view = await Promise.race([fresh, late]);
      return view ? served(view) : served(previous, true);
    } finally {
      clearTimeout(timer);
    }
  };
}

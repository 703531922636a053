/**
 * A bounded load loop for the zero-downtime bench: `concurrency` lanes, each sending one GET after the
 * other to `url` (a fresh connection each time, as clients arriving during a deploy would), each try cut
 * off at `timeoutMs`. A try fails on a refused or reset connection, a timeout or a status other than 200.
 * `stop()` ends the lanes after their try in flight and returns the counts.
 */
export interface LoadLoopResult {
  requests: number;
  /** Refused, reset, non-200 or timed out. */
  failed: number;
  /** Of `failed`: tries cut off at `timeoutMs` without an answer (a stalled client or server), not refused or reset. */
  timedOut: number;
  /** Longest stretch (ms) from the last success before a failure to the next success: the outage seen. */
  longestOutageMs: number;
  /** How many answers each body (the app's version) got, in order of first answer. */
  bodies: Record<string, number>;
}

export interface LoadLoop {
  stop(): Promise<LoadLoopResult>;
}

export function startLoadLoop({
  url,
  concurrency = 4,
  timeoutMs = 2000,
}: {
  url: string;
  concurrency?: number;
  timeoutMs?: number;
}): LoadLoop {
  let running = true;
  let requests = 0;
  let failed = 0;
  let timedOut = 0;
  let lastOk = performance.now();
  let outageFrom: number | undefined;
  let longestOutageMs = 0;
  const bodies: Record<string, number> = {};
  const lane = async () => {
    while (running) {
      requests++;
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } })
        .then(async (r) => ({ ok: r.status === 200, body: (await r.text()).trim() }))
        .catch((err: unknown) => {
          if ((err as Error)?.name === 'TimeoutError') timedOut++;
          return { ok: false, body: '' };
        });
      const now = performance.now();
      if (res.ok) {
        bodies[res.body] = (bodies[res.body] ?? 0) + 1;
        if (outageFrom !== undefined) longestOutageMs = Math.max(longestOutageMs, now - outageFrom);
        outageFrom = undefined;
        lastOk = now;
      } else {
        failed++;
        outageFrom ??= lastOk;
        await new Promise((r) => setTimeout(r, 5)); // a refused connection returns at once: do not spin
      }
    }
  };
  const lanes = Array.from({ length: concurrency }, lane);
  return {
    async stop() {
      running = false;
      await Promise.all(lanes);
      if (outageFrom !== undefined) longestOutageMs = Math.max(longestOutageMs, performance.now() - outageFrom);
      return { requests, failed, timedOut, longestOutageMs: Math.round(longestOutageMs), bodies };
    },
  };
}

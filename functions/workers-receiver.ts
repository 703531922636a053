/**
 * The receiver on Cloudflare Workers (wrangler.toml `main` → its esbuild bundle). No logic here:
 * lib/receiver/workers.ts. `scheduled` is the cron trigger of wrangler.toml: it enqueues the reconcile
 * jobs (drift check, self-heal) to SQS (lib/reconcile/schedule-workers.ts).
 */
import { workersReceiver, type WorkersBindings } from '../lib/receiver/workers.js';
import { workersScheduled } from '../lib/reconcile/schedule-workers.js';

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export default {
  fetch(request: Request, env: WorkersBindings, ctx: ExecutionContext): Response | Promise<Response> {
    return workersReceiver(env).fetch(request, undefined, ctx as never);
  },
  async scheduled(controller: { cron: string; scheduledTime: number }, env: WorkersBindings): Promise<void> {
    await workersScheduled(env, controller.scheduledTime);
  },
};

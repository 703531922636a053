/**
 * The receiver on Cloudflare Workers (wrangler.toml `main` → its esbuild bundle). No logic here:
 * lib/receiver/workers.ts. `scheduled` is the cron trigger of wrangler.toml, kept for the reconciler
 * (DESIGN.md "reconciler"); until that exists it only logs that it ran.
 */
import { workersLogger, workersReceiver, type WorkersBindings } from '../lib/receiver/workers.js';

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export default {
  fetch(request: Request, env: WorkersBindings, ctx: ExecutionContext): Response | Promise<Response> {
    return workersReceiver(env).fetch(request, undefined, ctx as never);
  },
  async scheduled(controller: { cron: string; scheduledTime: number }, env: WorkersBindings): Promise<void> {
    workersLogger(env).info('scheduled run: no reconciler in this build yet', { cron: controller.cron, scheduledTime: new Date(controller.scheduledTime).toISOString() });
  },
};

/**
 * The receiver on Node: loads the config, reads the webhook secrets from the environment, and serves
 * lib/receiver's Hono app with @hono/node-server on `PORT` (default 8080). No logic here. The queue is
 * handed in: `npm start` (embedded mode) passes the local durable queue and runs the worker beside it.
 */
import type { DeliveryLog } from './delivery-log.js';
import { serve, type ServerType } from '@hono/node-server';
import type { Handler } from 'hono';
import { Server as HttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, webhookSecrets, type Config } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import type { Queue } from '../queue/queue.js';
import { createReceiver } from './app.js';
import type { ReceiverEnv } from './env.js';
import { lingerOnClose } from './linger-close.js';

export interface StartReceiverOptions {
  queue: Queue;
  /** Default: `loadConfig({ env })`. */
  config?: Config;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Default: `PORT`, else 8080; 0 picks a free port. */
  port?: number;
  /** Default: `HOST`, else all interfaces. */
  hostname?: string;
  maxBodyBytes?: number;
  /** Connection and timeout limits (defaults: RECEIVER_LIMITS). */
  limits?: Partial<ReceiverLimits>;
  now?: () => number;
  /** `GET /`: the status page (embedded mode); absent, `GET /` points to `fjord status`. */
  statusPage?: Handler<ReceiverEnv>;
  /** Deliveries already queued, remembered for days (embedded mode). */
  deliveries?: DeliveryLog;
}

/**
 * What one client can make the Node receiver hold (issue 12, item 6). GitLab and GitHub give up on a
 * webhook after 10 s, so a request that takes longer is of no use to anyone.
 */
export interface ReceiverLimits {
  /** Open connections at most; more are closed at once. Keeps the worker's file descriptors its own. */
  maxConnections: number;
  /** All request headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Bodies read at once before their signature is checked (app.ts). */
  maxUnauthenticatedReads: number;
}

export const RECEIVER_LIMITS: ReceiverLimits = {
  maxConnections: 256,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxUnauthenticatedReads: 16,
};

export interface RunningReceiver {
  url: string;
  port: number;
  server: ServerType;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

export async function startReceiver(options: StartReceiverOptions): Promise<RunningReceiver> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env }).config;
  const logger = options.logger ?? createLogger();
  const port = options.port ?? portOf(env.PORT);
  const hostname = options.hostname ?? env.HOST ?? '0.0.0.0';
  const limits = { ...RECEIVER_LIMITS, ...options.limits };
  const app = createReceiver({
    config,
    secrets: webhookSecrets(config, env),
    queue: options.queue,
    logger,
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    maxUnauthenticatedReads: limits.maxUnauthenticatedReads,
    ...(options.now ? { now: options.now } : {}),
    ...(options.statusPage ? { statusPage: options.statusPage } : {}),
    ...(options.deliveries ? { deliveries: options.deliveries } : {}),
  });
  const server = serve({
    fetch: app.fetch,
    port,
    hostname,
    serverOptions: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node enforces the two timeouts above only this often (default 30 s, longer than both).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
  });
  (server as Server).maxConnections = limits.maxConnections;
  // A refused upload still gets its answer (see linger-close.ts).
  if (server instanceof HttpServer) lingerOnClose(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const bound = (server.address() as AddressInfo).port;
  const host = hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname;
  logger.info('receiver listening', { port: bound, hostname, limits });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

function portOf(value: string | undefined): number {
  if (value === undefined || value === '') return 8080;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError([`PORT: not a port number: ${JSON.stringify(value)}`]);
  return port;
}

/**
 * The receiver on Node (`@hono/node-server`, `PORT`, default 8080). No logic here: `fjord start` runs it
 * with the embedded queue and worker beside it; other run modes have their own entrypoints in functions/.
 */
export { startReceiver, type RunningReceiver, type StartReceiverOptions } from '../lib/receiver/serve-node.js';

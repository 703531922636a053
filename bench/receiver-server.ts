/**
 * Benchmark server (a child process of bench/receiver.ts): the full receiver plus two baselines on the
 * same @hono/node-server — `/bench/bare` ignores the body; `/bench/floor` reads it, checks its
 * Standard Webhooks HMAC-SHA256 and JSON.parses it, the least any authenticated receiver must do.
 * Prints `{"port":N}` once listening. `/bench/cpu` and `/bench/journal` report this process's CPU time and
 * the queue journal's counters; an IPC `{profile: 'start' | 'stop'}` takes a CPU profile (receiver-profile.ts).
 */
import { serve } from '@hono/node-server';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { parseConfig } from '../lib/config/index.js';
import { decodeSigningKey } from '../lib/events/verify-standard-webhook.js';
import { createLogger } from '../lib/log.js';
import { createReceiver } from '../lib/receiver/app.js';
import { readIncoming } from '../lib/receiver/read-body.js';
import { Secret } from '../lib/secret.js';
import { makeBenchQueue } from './bench-queue.js';
import { BENCH_SIGNING_KEY, BENCH_TOKEN } from './receiver-request.js';

const config = parseConfig(
  stringify({
    sources: { gitlab: { signingKeyEnv: 'BENCH_KEY' } },
    manifest: { backend: 'git', repository: './m.git' },
    apps: {
      api: {
        source: { provider: 'gitlab', project: 'acme/api', branch: 'main', trigger: 'merge' },
        image: 'registry.example.com/acme/api',
        environments: { staging: { manifest: { file: 'api/staging.yaml', path: 'image.tag' } } },
      },
    },
  }),
);
// `--no-fsync`: the same receiver with the journal's O_DSYNC off (bench/receiver's diagnosis row alone).
const queue = await makeBenchQueue({ fsync: !process.argv.includes('--no-fsync') });
// The baselines are routes of the receiver's own Hono app: same server, same router, nothing mounted.
const app = createReceiver({
  config,
  // The token serves bench/peers-webhook.ts (X-Gitlab-Token, as adnanh/webhook checks it); signed requests
  // are judged by their signature alone, so bench/receiver's figures do not change.
  secrets: {
    gitlabTokens: [new Secret(BENCH_TOKEN)],
    gitlabSigningKeys: [new Secret(BENCH_SIGNING_KEY)],
    githubSecrets: [],
  },
  queue,
  // Info, as every run mode logs: the 'webhook queued' line is part of the path measured. Lines are built
  // (fields, JSON, secret scrub) and dropped: the terminal is not the benchmark.
  logger: createLogger({ level: 'info', write: () => {} }),
});

const key = decodeSigningKey(BENCH_SIGNING_KEY);
// CPU time of this process: per-request cost is robust to other load on the machine, unlike req/s.
app.get('/bench/cpu', (c) => c.json(process.cpuUsage()));
// Journal counters: records ÷ writes is how many 202s one O_DSYNC write carried.
app.get('/bench/journal', (c) => c.json(queue.stats()));
app.post('/bench/bare', (c) => c.json({ ok: true }));
app.post('/bench/floor', async (c) => {
  const incoming = c.env!.incoming!;
  const h = incoming.headers;
  const body = await readIncoming(incoming, 1024 * 1024);
  const mac = createHmac('sha256', key).update(`${h['webhook-id']}.${h['webhook-timestamp']}.`).update(body).digest();
  const given = Buffer.from(String(h['webhook-signature']).slice(3), 'base64');
  if (given.length !== mac.length || !timingSafeEqual(given, mac)) return c.json({ error: 'signature' }, 401);
  const parsed = JSON.parse(body.toString('utf8'));
  return c.json({ ok: typeof parsed === 'object' }, 202);
});

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  process.stdout.write(JSON.stringify({ port: info.port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// bench/receiver-profile.ts: a CPU profile of a load window alone (start-up and compiling left out).
process.on('message', (m: { profile?: 'start' | 'stop' }) => void (m.profile && profile(m.profile)));
// Never outlive the benchmark that started us.
process.on('disconnect', () => process.exit(0));

const inspector = new Session();
async function profile(step: 'start' | 'stop'): Promise<void> {
  if (step === 'start') {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.post('Profiler.start');
    process.send!({ profiling: true });
  } else {
    const { profile } = await inspector.post('Profiler.stop');
    inspector.disconnect();
    process.send!({ profile });
  }
}

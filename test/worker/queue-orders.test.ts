/**
 * Issue 12, items 1, 7 and 9, on real parts (a bare git manifest repository, Debian's docker-registry on
 * loopback, the embedded queue): a queued job is an order only when fjord.yaml agrees with it; only the
 * newest deploy of an environment waits for its image; a stopping worker hands a job that waits for its
 * image back at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { silentNotifier } from '../../lib/notify/notifier.js';
import { createLocalQueue } from '../../lib/queue/local.js';
import { deploy } from '../../lib/worker/deploy.js';
import { makeDeployHandler, makeDeployPorts } from '../../lib/worker/make-handler.js';
import { RetryableError } from '../../lib/worker/outcome.js';
import { startWorker, type JobContext } from '../../lib/worker/worker-loop.js';
import { createBareRepo } from '../fixtures/git/repo.js';
import { makeJob, sendOptionsOf, testQueueKey } from '../fixtures/jobs.js';
import { pushImage } from '../fixtures/push-image.js';
import { startRegistry, type RegistryFixture } from '../fixtures/registry.js';

const FILE = 'apps/api/prod/values.yaml';
const VALUES = 'image:\n  repository: acme/api\n  tag: "v0"\n';

describe('queued jobs and fjord.yaml', () => {
  let registry: RegistryFixture;
  before(async () => (registry = await startRegistry()));
  after(async () => registry?.stop());

  const setup = (waitForImage = '10m') => {
    const repo = createBareRepo({ [FILE]: VALUES });
    const config = parseConfig(`
sources: { gitlab: { webhookSecretEnv: S } }
manifest: { backend: git, repository: ${repo.bare} }
registries: [{ host: "${registry.host}", insecure: true }]
apps:
  api:
    source: { project: acme/api }
    image: ${registry.host}/acme/api
    waitForImage: ${waitForImage}
    environments:
      prod: { manifest: { file: ${FILE}, path: image.tag } }
`);
    const options = {
      config,
      configPath: join(repo.root, 'fjord.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'fjord-orders-')),
    };
    const job = (n: number, over = {}) =>
      makeJob({ n, app: 'api', environment: 'prod', image: `${registry.host}/acme/api`, ...over });
    const commits = () => repo.git(['rev-list', '--count', 'main']).trim();
    return { repo, options, job, commits };
  };
  const ctx = (over: Partial<JobContext> = {}): JobContext => ({
    heartbeat: async () => {},
    attempts: 1,
    logger: silentLogger,
    signal: new AbortController().signal,
    ...over,
  });

  it('refuses a queued job whose image is not the app image in fjord.yaml, before any commit, wait or note', async () => {
    const { repo, options, job, commits } = setup();
    await pushImage(registry.url, 'acme/evil', 'v1');
    const lines: string[] = [];
    const handle = makeDeployHandler({ ...options, notifier: silentNotifier });
    const before = commits();
    const outcome = await handle(
      job(1, { image: `${registry.host}/acme/evil` }),
      ctx({ logger: createLogger({ write: (l) => lines.push(l) }) }),
    );
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.refused, true);
    assert.match(outcome.detail ?? '', /^refused: image ".*acme\/evil" is not apps\.api\.image \(.*acme\/api\)$/);
    assert.equal(commits(), before, 'nothing committed');
    const refusal = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'job refused');
    assert.equal(refusal?.job?.image, `${registry.host}/acme/evil`, 'the log line keeps the refused job');
    repo.cleanup();
  });

  it('refuses manual and rollback jobs from a queue: only the CLI runs them', async () => {
    const { repo, options, job, commits } = setup();
    await pushImage(registry.url, 'acme/api', 'v2');
    const handle = makeDeployHandler({ ...options, notifier: silentNotifier });
    const before = commits();
    for (const reason of ['manual', 'rollback'] as const) {
      const outcome = await handle(job(2, { reason, id: `job-${reason}-0002` }), ctx());
      assert.equal(outcome.status, 'failed', reason);
      assert.match(outcome.detail ?? '', new RegExp(`^refused: reason ${reason} is accepted only from the fjord CLI`));
    }
    assert.equal(commits(), before);
    // The same job through the CLI's path (deploy in-process) runs.
    assert.equal((await deploy(job(2, { reason: 'manual' }), ctx(), makeDeployPorts(options))).status, 'deployed');
    repo.cleanup();
  });

  it('the commit names the image fjord.yaml gives, whatever the job object says (CLI path)', async () => {
    const { repo, options, job } = setup();
    await pushImage(registry.url, 'acme/api', 'v3');
    const outcome = await deploy(
      job(3, { reason: 'manual', image: 'registry.example.com/other/image' }),
      ctx(),
      makeDeployPorts(options),
    );
    assert.equal(outcome.status, 'deployed', outcome.detail);
    const message = repo.git(['log', '-1', '--format=%B', 'main']);
    assert.match(message, new RegExp(`Fjord-Image: ${registry.host.replace(/\./g, '\\.')}/acme/api\\n`));
    assert.doesNotMatch(message, /other\/image/);
    repo.cleanup();
  });

  it('stops waiting for its image once a newer deploy of its environment waits behind it (superseded, nothing committed)', async () => {
    const { repo, options, job, commits } = setup();
    const before = commits();
    let beats = 0;
    const outcome = await deploy(
      job(4, { tag: 'never-built-4' }),
      ctx({ heartbeat: async () => void beats++, newerWaiting: () => beats >= 1 }),
      makeDeployPorts(options),
    );
    assert.equal(outcome.status, 'superseded', outcome.detail);
    assert.match(outcome.detail ?? '', /a newer deploy of api\/prod is queued; stopped waiting/);
    assert.equal(commits(), before);
    repo.cleanup();
  });

  it('a stopping worker hands back a job waiting for its image at once, not after waitForImage', async () => {
    const { repo, options, job, commits } = setup('15m');
    const queue = await createLocalQueue({ key: testQueueKey(), dir: join(options.dataDir, 'queue') });
    const j = job(5, { tag: 'never-built-5' });
    await queue.send(j, sendOptionsOf(j));
    let waiting!: () => void;
    const isWaiting = new Promise<void>((r) => (waiting = r));
    const ports = makeDeployPorts(options);
    const worker = startWorker({
      queue,
      logger: silentLogger,
      idleMs: 10,
      handle: (jobIn, c) => {
        const heartbeat = async (sec: number) => {
          waiting();
          return c.heartbeat(sec);
        };
        return deploy(jobIn, { ...c, heartbeat }, ports);
      },
    });
    await isWaiting;
    const started = Date.now();
    await worker.stop();
    const stopMs = Date.now() - started;
    // 15 minutes is the deadline; a handed-back job returns within one registry check.
    assert.ok(stopMs < 60_000, `stop took ${stopMs} ms`);
    const [entry] = queue.list();
    assert.equal(entry?.job.id, j.id, 'the job is still queued');
    assert.equal(entry?.state, 'pending', 'visible again at once (delay 0), not dead, not hidden');
    assert.equal(queue.listDead().length, 0);
    assert.equal(commits(), '1');
    await queue.close();
    repo.cleanup();
  });

  it('an aborted wait is a RetryableError with no delay', async () => {
    const { repo, options, job } = setup('15m');
    const abort = new AbortController();
    await assert.rejects(
      deploy(
        job(6, { tag: 'never-built-6' }),
        ctx({ signal: abort.signal, heartbeat: async () => abort.abort() }),
        makeDeployPorts(options),
      ),
      (err) => err instanceof RetryableError && err.delaySec === 0,
    );
    repo.cleanup();
  });
});

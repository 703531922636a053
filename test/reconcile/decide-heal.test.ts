import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../lib/config/index.js';
import { dedupIdOf, groupOf } from '../../lib/job.js';
import type { HostDrift } from '../../lib/reconcile/classify-host.js';
import { decideHeal, describeHeal } from '../../lib/reconcile/decide-heal.js';
import { driftIdOf, healJobId, parseHealJobId } from '../../lib/reconcile/drift-id.js';
import type { EnvironmentDrift } from '../../lib/reconcile/drift-types.js';
import { formatHealRecord, parseHealRecord, type HealRecord } from '../../lib/reconcile/heal-record.js';
import { reconcileJobs, reconcileTick } from '../../lib/reconcile/reconcile-jobs.js';

const IMAGE = 'registry.example.com/acme/api';
const KEY = 'SHA256:' + 'A'.repeat(43);
const LIMITS = { healAttempts: 3, healBackoff: 60_000 };
const NOW = new Date('2030-01-01T12:00:00Z');

const host = (name: string, status: HostDrift['status'], tag?: string, healRecord?: HealRecord): HostDrift => ({
  host: name,
  status,
  desired: `${IMAGE}:v1`,
  ...(tag ? { running: `${IMAGE}:${tag}` } : {}),
  ...(healRecord ? { healRecord } : {}),
});
const env = (hosts: HostDrift[], desiredTag: string | undefined = 'v1'): EnvironmentDrift => ({
  app: 'api',
  environment: 'prod',
  file: 'api/prod.yaml',
  hosts,
  ...(desiredTag ? { desiredTag } : {}),
});
const record = (drift: string, attempts: number, at: Date, outcome = 'failed'): HealRecord => ({
  drift,
  attempts,
  job: healJobId(drift, attempts),
  at: at.toISOString(),
  outcome,
});

describe('decideHeal', () => {
  const drifted = [host('web-1', 'in-sync', 'v1'), host('web-2', 'drifted', 'v0-hotfix')];
  const id = driftIdOf('api', 'prod', 'v1', drifted);

  it('heals a drifted or missing host with attempt 1, and names only those hosts', () => {
    const d = decideHeal(env([...drifted, host('web-3', 'missing'), host('web-4', 'unreachable')]), LIMITS, NOW)!;
    assert.equal(d.action, 'heal');
    assert.deepEqual(d.hosts, ['web-2', 'web-3']);
    assert.equal(d.jobId, healJobId(d.drift, 1));
  });

  it('has nothing to do when in sync, only unreachable, or the manifest names no tag', () => {
    assert.equal(decideHeal(env([host('web-1', 'in-sync', 'v1')]), LIMITS, NOW), undefined);
    assert.equal(decideHeal(env([host('web-1', 'unreachable')]), LIMITS, NOW), undefined);
    assert.equal(decideHeal({ ...env(drifted), desiredTag: undefined }, LIMITS, NOW), undefined);
  });

  it('the drift id depends on what runs where and the desired tag, not on host order or in-sync hosts', () => {
    assert.equal(driftIdOf('api', 'prod', 'v1', [...drifted].reverse()), id);
    assert.equal(driftIdOf('api', 'prod', 'v1', [drifted[1]!]), id);
    assert.notEqual(driftIdOf('api', 'prod', 'v1', [host('web-2', 'drifted', 'v0-other')]), id);
    assert.notEqual(driftIdOf('api', 'prod', 'v2', drifted), id);
    assert.notEqual(driftIdOf('api', 'staging', 'v1', drifted), id);
  });

  it('waits healBackoff × 2^(attempts-1) after the last attempt, then takes the next one', () => {
    const after1 = (ms: number) =>
      decideHeal(
        env([drifted[0]!, { ...drifted[1]!, healRecord: record(id, 1, new Date(NOW.getTime() - ms)) }]),
        LIMITS,
        NOW,
      )!;
    assert.deepEqual(
      [after1(59_000).action, after1(59_000).nextAt],
      ['wait', new Date(NOW.getTime() + 1_000).toISOString()],
    );
    assert.deepEqual([after1(60_000).action, after1(60_000).jobId], ['heal', healJobId(id, 2)]);
    const after2 = (ms: number) =>
      decideHeal(env([{ ...drifted[1]!, healRecord: record(id, 2, new Date(NOW.getTime() - ms)) }]), LIMITS, NOW)!
        .action;
    assert.equal(after2(119_000), 'wait');
    assert.equal(after2(120_000), 'heal');
  });

  it('stops after healAttempts; a record of another drift does not count', () => {
    const stopped = decideHeal(env([{ ...drifted[1]!, healRecord: record(id, 3, new Date(0)) }]), LIMITS, NOW)!;
    assert.equal(stopped.action, 'stopped');
    assert.match(describeHeal(stopped), /^heal stopped after 3 attempts \(last: failed\); fix web-2/);
    const other = decideHeal(env([{ ...drifted[1]!, healRecord: record('f'.repeat(24), 3, NOW) }]), LIMITS, NOW)!;
    assert.deepEqual([other.action, other.attempts], ['heal', 0]);
  });
});

describe('heal records and heal job ids', () => {
  it('round-trip; anything else reads as no record', () => {
    const r = record('a'.repeat(24), 2, NOW, 'running');
    assert.deepEqual(parseHealRecord(formatHealRecord(r) + '\n'), r);
    assert.equal(parseHealRecord(''), undefined);
    assert.equal(parseHealRecord('drift=x\nattempts=two\njob=j\nat=now\noutcome=failed'), undefined);
    assert.deepEqual(parseHealJobId(healJobId('b'.repeat(24), 3)), { drift: 'b'.repeat(24), attempt: 3 });
    assert.equal(parseHealJobId('job-api-prod-1'), undefined);
  });
});

describe('reconcileJobs', () => {
  const config = parseConfig(`
sources: { gitlab: {} }
manifest: { backend: git, repository: ./m.git }
hosts: { web-1: { address: 127.0.0.2, hostKey: "${KEY}" } }
reconcile: { interval: 5m }
apps:
  api:
    source: { project: acme/api }
    image: ${IMAGE}
    environments:
      staging: { manifest: { file: s.yaml, path: image.tag }, hosts: [web-1] }
      prod: { manifest: { file: p.yaml, path: image.tag }, hosts: [web-1] }
      docs: { manifest: { file: d.yaml, path: image.tag } }
`);

  it('one job per app × environment with hosts, in its queue group, the same ids within a tick', () => {
    const jobs = reconcileJobs(config, new Date('2030-01-01T12:03:10Z'));
    assert.deepEqual(
      jobs.map((j) => [groupOf(j), j.reason, j.image, j.enqueuedAt]),
      [
        ['api/staging', 'reconcile', IMAGE, '2030-01-01T12:00:00.000Z'],
        ['api/prod', 'reconcile', IMAGE, '2030-01-01T12:00:00.000Z'],
      ],
    );
    assert.deepEqual(reconcileJobs(config, new Date('2030-01-01T12:04:59Z')), jobs);
    assert.equal(dedupIdOf(jobs[0]!), `reconcile/${jobs[0]!.id}`);
    assert.notEqual(jobs[0]!.id, jobs[1]!.id);
    const next = reconcileJobs(config, new Date('2030-01-01T12:05:00Z'));
    assert.notEqual(next[0]!.id, jobs[0]!.id);
    assert.equal(reconcileTick(0, new Date('2030-01-01T12:05:00.250Z')).toISOString(), '2030-01-01T12:05:00.000Z');
  });
});

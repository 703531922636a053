import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyHost } from '../../lib/reconcile/classify-host.js';
import { HostUnreachable } from '../../lib/ssh/errors.js';

const IMAGE = 'registry.example.com/acme/api';
const running = (ref: string, state = 'running') => ({ ref, state, container: 'api-prod', labels: {} });
const base = { host: 'web-1', image: IMAGE, desiredTag: 'v1' };

describe('classifyHost', () => {
  it('in sync when the desired image:tag runs', () => {
    assert.deepEqual(classifyHost({ ...base, running: running(`${IMAGE}:v1`) }), {
      host: 'web-1',
      status: 'in-sync',
      desired: `${IMAGE}:v1`,
      running: `${IMAGE}:v1`,
      state: 'running',
      container: 'api-prod',
    });
  });

  it('drifted on another tag or another image, with both refs', () => {
    const other = classifyHost({ ...base, running: running(`${IMAGE}:v0`) });
    assert.equal(other.status, 'drifted');
    assert.equal(other.desired, `${IMAGE}:v1`);
    assert.equal(other.running, `${IMAGE}:v0`);
    assert.equal(classifyHost({ ...base, running: running('registry.example.com/acme/other:v1') }).status, 'drifted');
    // The command strategy's record counts as what runs.
    assert.equal(classifyHost({ ...base, running: running(`${IMAGE}:v2`, 'recorded') }).status, 'drifted');
    assert.equal(classifyHost({ ...base, running: running(`${IMAGE}:v1`, 'recorded') }).status, 'in-sync');
  });

  it('matches Docker Hub names however they are spelled', () => {
    assert.equal(
      classifyHost({ ...base, image: 'nginx', running: running('docker.io/library/nginx:v1') }).status,
      'in-sync',
    );
  });

  it('missing when nothing is deployed or the container is not running (state kept)', () => {
    assert.equal(classifyHost(base).status, 'missing');
    const stopped = classifyHost({ ...base, running: running(`${IMAGE}:v1`, 'exited') });
    assert.equal(stopped.status, 'missing');
    assert.equal(stopped.state, 'exited');
  });

  it('unreachable with the error class and message', () => {
    const r = classifyHost({ ...base, error: new HostUnreachable('web-1', '127.0.0.2', 22, 'connect ECONNREFUSED') });
    assert.equal(r.status, 'unreachable');
    assert.equal(r.errorName, 'HostUnreachable');
    assert.match(r.error!, /ECONNREFUSED/);
    assert.equal(r.running, undefined);
  });

  it('a manifest without a tag: anything running is drift, nothing running is in sync', () => {
    assert.equal(classifyHost({ ...base, desiredTag: undefined, running: running(`${IMAGE}:v1`) }).status, 'drifted');
    assert.equal(classifyHost({ ...base, desiredTag: undefined }).status, 'in-sync');
  });
});

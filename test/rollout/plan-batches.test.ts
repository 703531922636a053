import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBatches } from '../../lib/rollout/plan-batches.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `web-${i + 1}`);
const shape = (batches: string[][]) => batches.map((b) => b.length);

describe('planBatches', () => {
  it('splits by a count, keeping host order', () => {
    assert.deepEqual(planBatches(hosts(5), 2), [['web-1', 'web-2'], ['web-3', 'web-4'], ['web-5']]);
    assert.deepEqual(shape(planBatches(hosts(3), 1)), [1, 1, 1]);
    assert.deepEqual(shape(planBatches(hosts(3), 10)), [3]);
  });

  it('splits by a percentage of all hosts, rounded up, at least one', () => {
    assert.deepEqual(shape(planBatches(hosts(10), '25%')), [3, 3, 3, 1]);
    assert.deepEqual(shape(planBatches(hosts(4), '50%')), [2, 2]);
    assert.deepEqual(shape(planBatches(hosts(3), '1%')), [1, 1, 1]);
    assert.deepEqual(shape(planBatches(hosts(3), '0%')), [1, 1, 1]);
    assert.deepEqual(shape(planBatches(hosts(7), '100%')), [7]);
  });

  it('sends a canary alone first, then the rest in batches', () => {
    assert.deepEqual(planBatches(hosts(5), 2, true), [['web-1'], ['web-2', 'web-3'], ['web-4', 'web-5']]);
    assert.deepEqual(planBatches(hosts(1), 3, true), [['web-1']]);
    assert.deepEqual(shape(planBatches(hosts(9), '50%', true)), [1, 5, 3]);
  });

  it('has no batches for no hosts and refuses a non-positive size', () => {
    assert.deepEqual(planBatches([], 2), []);
    assert.throws(() => planBatches(hosts(2), 0), RangeError);
    assert.throws(() => planBatches(hosts(2), 1.5), RangeError);
  });
});

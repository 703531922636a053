import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchReceiver } from '../../bench/receiver.js';

// A short run of bench/receiver, so the benchmark keeps working: it throws unless every measured answer
// is the route's success (202 from the receiver: authenticated, parsed, routed and queued).
describe('bench/receiver (smoke)', () => {
  it('measures the full receiver and both baselines', async () => {
    const r = await benchReceiver({ rounds: 1, warmupMs: 100, durationMs: 400, connections: 4 });
    for (const t of ['bare', 'floor', 'receiver', 'noFsync'] as const) {
      assert.ok(r.targets[t].rps > 0, t);
      assert.ok(r.targets[t].cpuUsPerReq > 0, t);
      assert.ok(r.targets[t].p99Ms >= r.targets[t].p50Ms, t);
    }
    // Both receivers queue every request through the journal's group commit: at least one record a write.
    assert.ok(r.targets.receiver.recordsPerWrite! >= 1, `records/write ${r.targets.receiver.recordsPerWrite}`);
    assert.ok(r.targets.noFsync.recordsPerWrite! >= 1, `records/write ${r.targets.noFsync.recordsPerWrite}`);
    assert.equal(r.rps, r.targets.receiver.rps);
    assert.equal(r.ratio, Math.round((r.rps / r.floorRps) * 100) / 100);
  });
});

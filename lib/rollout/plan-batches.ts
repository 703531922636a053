/** Splits an environment's hosts into rollout batches: an optional canary alone, then `batchSize` at a time. */
import type { RolloutConfig } from '../config/schema.js';

/**
 * `batchSize` is a count or a percentage of all the environment's hosts (rounded up, at least 1).
 * With `canary`, the first host goes alone first; the rest follow in batches of that size.
 */
export function planBatches(
  hosts: readonly string[],
  batchSize: RolloutConfig['batchSize'],
  canary = false,
): string[][] {
  if (hosts.length === 0) return [];
  const size =
    typeof batchSize === 'number'
      ? batchSize
      : Math.max(1, Math.ceil((hosts.length * Number(batchSize.slice(0, -1))) / 100));
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`batch size must be a positive integer, got ${String(batchSize)}`);
  const batches: string[][] = [];
  const rest = canary ? hosts.slice(1) : [...hosts];
  if (canary) batches.push([hosts[0]!]);
  for (let i = 0; i < rest.length; i += size) batches.push(rest.slice(i, i + size));
  return batches;
}

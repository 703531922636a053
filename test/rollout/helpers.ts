/** Shared bits of the rollout tests (not a test file itself). */
import { configSchema, type EnvironmentConfig, type RolloutConfig } from '../../lib/config/schema.js';
import type { SshOptions } from '../../lib/ssh/types.js';

export const IMAGE = 'registry.example.com/acme/api';
export const OPTIONS: SshOptions = { connectTimeoutMs: 5_000, commandTimeoutMs: 30_000 };

/** An environment config as fjord.yaml would give it, with `rollout` (schema input) filled by the schema's defaults. */
export function environment(rollout: Record<string, unknown>, hosts: string[] = []): EnvironmentConfig {
  const config = configSchema.parse({
    manifest: { backend: 'git', repository: './m.git' },
    apps: { api: { source: { project: 'acme/api' }, image: IMAGE, environments: { prod: { manifest: { file: 'prod/values.yaml', path: 'image.tag' }, hosts, rollout } } } },
  });
  return config.apps.api!.environments.prod!;
}

export const rolloutOf = (rollout: Record<string, unknown>): RolloutConfig => environment(rollout).rollout;

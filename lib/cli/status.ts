/** `fjord status [--json]`: the drift report, desired tag (manifest) against what each host runs. Exit 1 on any drift. */
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { secretList } from '../config/secrets.js';
import { createManifestStore } from '../manifest/create-store.js';
import { checkDrift } from '../reconcile/drift.js';
import { fleetForConfig } from '../reconcile/fleet-for.js';
import { formatDrift } from '../reconcile/format-drift.js';
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';

export const statusCommand: Command = {
  name: ['status'],
  summary: 'show drift: the manifest tag against what each host runs (exit 1 on drift)',
  usage: 'fjord status [--json] [--config file]',
  async run(args, io) {
    const { values, positionals } = parse(args, {
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const { config, path } = loadConfig({ file: values.config, env: io.env, cwd: io.cwd });
    const dataDir = resolve(io.cwd, io.env.FJORD_DATA_DIR ?? '.fjord', 'cli');
    const store = createManifestStore(config, {
      env: io.env,
      dataDir: resolve(dataDir, 'manifests'),
      baseDir: dirname(path),
    });
    const ageIdentities = secretList(io.env, config.secrets.identityEnv);
    const report = await checkDrift({
      config,
      store,
      fleetFor: fleetForConfig(config, io.env, dirname(path)),
      ageIdentities,
    });
    io.stdout(values.json ? JSON.stringify(report, null, 2) + '\n' : formatDrift(report));
    return report.inSync ? 0 : 1;
  },
};

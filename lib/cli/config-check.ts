/** `fjord config check [file]`: every problem with its path (exit 1), or a summary (exit 0). */
import { ConfigError } from '../errors.js';
import { loadConfig } from '../config/index.js';
import { parse } from './args.js';
import type { Command } from './command.js';

export const configCheck: Command = {
  name: ['config', 'check'],
  summary: 'validate fjord.yaml and print a summary',
  usage: 'fjord config check [file]',
  async run(args, io) {
    const { positionals } = parse(args, {});
    try {
      const { config, path } = loadConfig({ file: positionals[0], env: io.env, cwd: io.cwd });
      io.stdout(`${path}: ok\n`);
      for (const [appName, app] of Object.entries(config.apps)) {
        io.stdout(
          `  app ${appName}: ${app.source.provider}:${app.source.project}@${app.source.branch} (${app.source.trigger}) → ${app.image}:${app.tag}\n`,
        );
        for (const [envName, env] of Object.entries(app.environments)) {
          const promo = env.promoteFrom ? `, promoted from ${env.promoteFrom} (${env.promote})` : '';
          io.stdout(
            `    ${envName}: ${env.manifest.file} · ${env.hosts.length} host(s) · ${env.rollout.strategy}, batch ${env.rollout.batchSize}${promo}\n`,
          );
        }
      }
      io.stdout(`  ${Object.keys(config.hosts).length} host(s), manifest backend ${config.manifest.backend}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.stderr(err.message + '\n');
      return 1;
    }
  },
};

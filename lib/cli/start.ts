/** `fjord start`: the embedded mode — receiver, durable queue and worker in this process, until SIGINT/SIGTERM. */
import { loadConfig } from '../config/index.js';
import { startEmbedded } from '../embedded/start-embedded.js';
import { createLogger } from '../log.js';
import { parse } from './args.js';
import type { Command } from './command.js';

export const start: Command = {
  name: ['start'],
  summary: 'run the receiver, the durable queue and the worker in one process (PORT, FJORD_DATA_DIR)',
  usage: 'fjord start [--config file] [--port N]',
  async run(args, io) {
    const { values } = parse(args, { config: { type: 'string' }, port: { type: 'string' } });
    const { config, path } = loadConfig({ file: values.config, env: io.env, cwd: io.cwd });
    const logger = createLogger({ write: (line) => io.stderr(line + '\n') });
    const running = await startEmbedded({
      config,
      configPath: path,
      env: io.env,
      cwd: io.cwd,
      logger,
      ...(values.port ? { port: Number(values.port) } : {}),
    });
    io.stdout(`fjord listening on ${running.url} (POST /hooks/gitlab, /hooks/github; ${running.statusPage})\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    logger.info('stopping');
    await running.stop();
    return 0;
  },
};

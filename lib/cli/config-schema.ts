/** `fjord config schema`: JSON Schema of fjord.yaml for editors (yaml-language-server). */
import * as z from 'zod';
import { configSchema } from '../config/index.js';
import type { Command } from './command.js';

export const configSchemaCommand: Command = {
  name: ['config', 'schema'],
  summary: 'print the JSON Schema of fjord.yaml',
  usage: 'fjord config schema',
  async run(_args, io) {
    const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
    io.stdout(JSON.stringify({ ...schema, title: 'fjord.yaml' }, null, 2) + '\n');
    return 0;
  },
};

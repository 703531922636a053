/** Every `fjord` subcommand, in the order `--help` lists them. */
import { bump } from './bump.js';
import type { Command } from './command.js';
import { configCheck } from './config-check.js';
import { configSchemaCommand } from './config-schema.js';
import { queueLs } from './queue-ls.js';
import { start } from './start.js';
import { statusCommand } from './status.js';
import { pruneCommand } from './prune.js';
import { deployCommand } from './deploy.js';
import { rollbackCommand } from './rollback.js';
import { holdCommand, releaseCommand } from './hold.js';
import { unlockCommand } from './unlock.js';
import { worker } from './worker.js';
import { secretsEdit, secretsRotate, secretsSet } from './secrets.js';

export const commands: Command[] = [
  start,
  worker,
  deployCommand,
  rollbackCommand,
  holdCommand,
  releaseCommand,
  unlockCommand,
  statusCommand,
  pruneCommand,
  configCheck,
  configSchemaCommand,
  bump,
  queueLs,
  secretsSet,
  secretsEdit,
  secretsRotate,
];

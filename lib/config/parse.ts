/**
 * Config text → validated Config, with no file system: the Workers receiver (no `node:fs`) and
 * `FJORD_CONFIG_YAML` use it directly; `loadConfig` reads the file and calls it.
 */
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { checkReferences } from './check-references.js';
import { formatIssues } from './format-issues.js';
import { configSchema, type Config } from './schema.js';

/** Parses and validates config text; `file` only labels errors. */
export function parseConfig(text: string, file?: string): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new ConfigError(
      doc.errors.map((e) => e.message.split('\n')[0] ?? e.message),
      file,
    );
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues), file);
  const problems = checkReferences(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems, file);
  return parsed.data;
}

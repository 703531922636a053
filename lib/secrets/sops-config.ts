/**
 * The recipients a secrets file is encrypted to, declared in the manifest repository as SOPS users expect:
 * the nearest `.sops.yaml` from the file's directory up to the repository root, its `creation_rules`
 * evaluated in order, the first whose `path_regex` matches the file's path (relative to the `.sops.yaml`)
 * wins, and its age recipients are `age` (comma-separated or a list) plus each of `key_groups[].age`
 * (getsops.io/docs/usage/identities/config-file/; sops `config/config.go`). Only public keys live here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { parse } from 'yaml';
import { SecretsInvalid } from './errors.js';

const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

export interface DeclaredRecipients {
  /** The `.sops.yaml` that declared them, relative to the repository. */
  config: string;
  recipients: string[];
}

const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : []).map((s) => s.trim()).filter(Boolean);

/** The age recipients `.sops.yaml` declares for `file` (relative to `repo`); a clear error when none does. */
export function declaredRecipients(repo: string, file: string): DeclaredRecipients {
  let dir = dirname(join(repo, file));
  while (!existsSync(join(dir, '.sops.yaml'))) {
    if (relative(repo, dir) === '' || dir === dirname(dir))
      throw new SecretsInvalid(
        `${file}: no .sops.yaml between it and the repository root declares its recipients (creation_rules: [{path_regex: …, age: age1…}])`,
      );
    dir = dirname(dir);
  }
  const config = relative(repo, join(dir, '.sops.yaml')) || '.sops.yaml';
  let doc: { creation_rules?: unknown };
  try {
    doc = (parse(readFileSync(join(dir, '.sops.yaml'), 'utf8')) ?? {}) as typeof doc;
  } catch {
    throw new SecretsInvalid(`${config}: not valid YAML`);
  }
  const rules = Array.isArray(doc.creation_rules) ? (doc.creation_rules as Record<string, unknown>[]) : [];
  const path = relative(dir, join(repo, file)).split(sep).join('/');
  const rule = rules.find((r) => r && (r.path_regex === undefined || new RegExp(String(r.path_regex)).test(path)));
  if (!rule) throw new SecretsInvalid(`${config}: no creation rule matches ${path}`);
  const groups = Array.isArray(rule.key_groups) ? (rule.key_groups as Record<string, unknown>[]) : [];
  const recipients = [...new Set([...list(rule.age), ...groups.flatMap((g) => list(g?.age))])];
  if (!recipients.length) throw new SecretsInvalid(`${config}: the rule for ${path} names no age recipients`);
  const bad = recipients.find((r) => !AGE_RECIPIENT.test(r));
  if (bad) throw new SecretsInvalid(`${config}: ${JSON.stringify(bad.slice(0, 80))} is not an age recipient (age1…)`);
  return { config, recipients };
}

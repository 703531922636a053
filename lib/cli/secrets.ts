/**
 * `fjord secrets set|edit|rotate <app> <env>`: a helper for people, on a checkout of the manifest repository.
 * It decrypts the environment's `secrets.file` with the person's own age identity (where sops looks for
 * it), changes it, and encrypts it again with a fresh data key to the recipients `.sops.yaml` declares
 * for that file (the worker's public key among them). It writes the file and nothing else: commit and push
 * it, and the push converges the environment. Output names keys, never values.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { SecretsIdentityMismatch, SecretsInvalid } from '../secrets/errors.js';
import { envFromTree, parseDotenv } from '../secrets/env-values.js';
import { describeKeyChanges, keyChanges } from '../secrets/key-changes.js';
import { decryptEnvValues, encryptEnvValues, type SecretsConfig } from '../secrets/load-app-secrets.js';
import { declaredRecipients } from '../secrets/sops-config.js';
import { userIdentities } from '../secrets/user-identity.js';
import { parse } from './args.js';
import { UsageError, type CliIo, type Command } from './command.js';
import { writeFileAtomic } from './write-file-atomic.js';

const OPTIONS = { config: { type: 'string' }, repo: { type: 'string' } } as const;
const IDENTITY_HELP =
  'no age identity of yours (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE or ~/.config/sops/age/keys.txt) is a recipient of this file; ' +
  'add your public key to .sops.yaml and ask a recipient to run fjord secrets rotate';
const TAIL = '[--repo <manifest checkout>] [--config fjord.yaml]';

interface Target {
  secrets: SecretsConfig;
  path: string;
  repo: string;
  /** The file's variables now (empty for a file not yet written). */
  values: Map<string, string>;
}

async function open(positionals: string[], values: { config?: string; repo?: string }, io: CliIo): Promise<Target> {
  const [app, environment] = positionals;
  if (!app || !environment) throw new UsageError('name the app and the environment');
  const { config } = loadConfig({ file: values.config, env: io.env, cwd: io.cwd });
  const env = config.apps[app]?.environments[environment];
  if (!env) throw new UsageError(`fjord.yaml has no environment ${app}/${environment}`);
  if (!env.secrets) throw new UsageError(`apps.${app}.environments.${environment}.secrets.file is not set`);
  const repo = resolve(io.cwd, values.repo ?? '.');
  const path = join(repo, env.secrets.file);
  let current = new Map<string, string>();
  try {
    if (existsSync(path))
      current = await decryptEnvValues(env.secrets, readFileSync(path, 'utf8'), userIdentities(io.env));
  } catch (err) {
    // The library's message speaks of the worker's identity; here it is the person's.
    if (err instanceof SecretsIdentityMismatch)
      throw new SecretsIdentityMismatch(`secrets file ${env.secrets.file}: ${IDENTITY_HELP}`);
    throw err;
  }
  return { secrets: env.secrets, path, repo, values: current };
}

/** `<app> <env>` and the common options, nothing else. */
async function openOnly(verb: string, args: string[], io: CliIo): Promise<Target> {
  const { values, positionals } = parse(args, OPTIONS);
  if (positionals.length > 2) throw new UsageError(`${verb} takes only the app and the environment`);
  return open(positionals, values, io);
}

/** Encrypts `next` to the declared recipients and writes it; prints what changed, by key. */
async function save(t: Target, next: Map<string, string>, io: CliIo, rotate = false): Promise<number> {
  const what = `secrets file ${t.secrets.file}`;
  envFromTree(next, what); // names and one-line values, as the worker will require
  const changes = keyChanges(t.values, next);
  const summary = describeKeyChanges(changes);
  if (!rotate && summary === 'no change' && existsSync(t.path)) {
    io.stderr(`${t.secrets.file}: no change\n`);
    return 0;
  }
  const { config, recipients } = declaredRecipients(t.repo, t.secrets.file);
  const text = await encryptEnvValues(t.secrets, next, recipients);
  if (existsSync(t.path)) writeFileAtomic(t.path, text);
  else {
    mkdirSync(dirname(t.path), { recursive: true });
    writeFileSync(t.path, text, { flag: 'wx' });
  }
  io.stderr(
    `${t.secrets.file}: ${rotate ? 'new data key; ' : ''}${summary} (encrypted to ${recipients.length} recipient${recipients.length === 1 ? '' : 's'} of ${config}); commit and push it to roll it out\n`,
  );
  return 0;
}

export const secretsSet: Command = {
  name: ['secrets', 'set'],
  summary:
    "set or unset an environment's secrets (KEY alone: its value from stdin), re-encrypted to .sops.yaml's recipients",
  usage: `fjord secrets set <app> <env> [KEY=VALUE | KEY]… [--unset KEY]… ${TAIL}`,
  async run(args, io) {
    const { values, positionals } = parse(args, { ...OPTIONS, unset: { type: 'string', multiple: true } });
    const assignments = positionals.slice(2);
    if (!assignments.length && !values.unset?.length)
      throw new UsageError('give KEY=VALUE, KEY (value from stdin) or --unset KEY');
    if (assignments.filter((a) => !a.includes('=')).length > 1)
      throw new UsageError('only one KEY may take its value from stdin');
    const t = await open(positionals, values, io);
    const next = new Map(t.values);
    for (const a of assignments) {
      const eq = a.indexOf('=');
      if (eq >= 0) next.set(a.slice(0, eq), a.slice(eq + 1));
      else {
        if (!io.stdin) throw new UsageError(`no standard input to read ${a} from`);
        next.set(a, (await io.stdin()).replace(/\r?\n$/, ''));
      }
    }
    for (const key of values.unset ?? []) {
      if (!next.delete(key)) throw new SecretsInvalid(`secrets file ${t.secrets.file}: has no ${key} to unset`);
    }
    return save(t, next, io);
  },
};

export const secretsEdit: Command = {
  name: ['secrets', 'edit'],
  summary: "edit an environment's secrets as KEY=VALUE lines in $VISUAL/$EDITOR (a 0600 temp file, removed after)",
  usage: `fjord secrets edit <app> <env> ${TAIL}`,
  async run(args, io) {
    const t = await openOnly('edit', args, io);
    const dir = mkdtempSync(join(tmpdir(), 'fjord-secrets-')); // 0700
    const file = join(dir, 'secrets.env');
    try {
      writeFileSync(file, [...t.values].map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
      const [cmd, ...rest] = (io.env.VISUAL || io.env.EDITOR || 'vi').split(/\s+/).filter(Boolean);
      const ran = spawnSync(cmd!, [...rest, file], { stdio: 'inherit', env: io.env });
      if (ran.error || ran.status !== 0)
        throw new SecretsInvalid(
          `the editor ${JSON.stringify(cmd)} ${ran.error ? `did not start (${(ran.error as NodeJS.ErrnoException).code})` : `exited with ${ran.status ?? ran.signal}`}; nothing written`,
        );
      return await save(t, parseDotenv(readFileSync(file, 'utf8'), `edited ${t.secrets.file}`), io);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export const secretsRotate: Command = {
  name: ['secrets', 'rotate'],
  summary: "re-encrypt an environment's secrets with a fresh data key to the recipients .sops.yaml declares now",
  usage: `fjord secrets rotate <app> <env> ${TAIL}`,
  async run(args, io) {
    const t = await openOnly('rotate', args, io);
    if (!existsSync(t.path))
      throw new SecretsInvalid(`secrets file ${t.secrets.file}: does not exist yet (fjord secrets set creates it)`);
    return save(t, t.values, io, true);
  },
};

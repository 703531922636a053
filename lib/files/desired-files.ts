/**
 * What each host of an environment should hold (issue 13): every `files[]` entry read from the manifest
 * repository at the branch head, rendered per host when it is a template, hashed. A source gone from the
 * repository is `absent` (removed from the hosts) when the entry has `prune: true`, an error otherwise. A
 * `prune: true` directory also gets a record per host: the names fjord wrote under its target (one a line,
 * a managed file like the others, so it rolls back with them); a name in the host's record that git no
 * longer has is removed (`withRemovedFiles`), and a file fjord did not write is never touched.
 */
import { FjordError } from '../errors.js';
import { backupDir, backupIn, readIfExists, recordPath, sha256 } from './file-commands.js';
import { TARGET_PATH, type ManagedFile } from './file-schema.js';
import { renderTemplate, type TemplateHost } from './render-template.js';

export class FileSourceMissing extends FjordError {
  override status = 422;
}

/** One managed file as one host should have it. */
export interface DesiredFile {
  /** Index in `files[]`, for messages: `files[0]`. */
  index: number;
  source: string;
  target: string;
  mode: string;
  owner?: string;
  /** The bytes to write; absent: the file must not exist (pruned). */
  content?: Buffer;
  sha256?: string;
  validate?: string[];
  reload?: ManagedFile['reload'];
  restart: boolean;
  /** No diff of its bytes in drift reports. */
  secret: boolean;
  /** Where the host keeps the previous bytes while this job may still roll back. */
  backup: string;
  /** This file is a `prune: true` directory's record of the names fjord wrote under `dir` (its content). */
  record?: DirectoryRecord;
}

/** What a name gone from a directory's record needs to become a removal. */
export interface DirectoryRecord {
  /** The directory's target on the host, and its source in git (ending in `/`). */
  dir: string;
  source: string;
  backupDir: string;
  reload?: ManagedFile['reload'];
  restart: boolean;
}

export interface DesiredFilesInput {
  app: string;
  environment: string;
  files: readonly ManagedFile[];
  hosts: readonly TemplateHost[];
  stateDir: string;
  /** The source's text at the manifest branch head; undefined when it is not in the repository. */
  read(source: string): Promise<string | undefined>;
  /** Files under a directory source (`source: nginx/conf.d/`); absent: the backend cannot list. */
  list?(dir: string): Promise<string[]>;
}

/** A directory source (`nginx/conf.d/`) as its files, each with its target under the directory target. */
async function expand(
  input: DesiredFilesInput,
  f: ManagedFile,
  index: number,
): Promise<{ source: string; target: string; text: string | undefined }[]> {
  if (!f.source.endsWith('/')) return [{ source: f.source, target: f.target, text: await input.read(f.source) }];
  if (!input.list)
    throw new FileSourceMissing(
      `files[${index}]: ${f.source} is a directory; this manifest backend cannot list directories`,
    );
  const sources = await input.list(f.source);
  // Emptied in git with prune: true: every file fjord wrote there goes.
  if (!sources.length && !f.prune)
    throw new FileSourceMissing(`files[${index}]: directory ${f.source} has no files in the manifest repository`);
  const targets = sources.map((source) => {
    const target = `${f.target}/${source.slice(f.source.length)}`;
    // A file name from git becomes part of a host path: the same grammar as fjord.yaml's targets.
    if (!TARGET_PATH.test(target))
      throw new FileSourceMissing(
        `files[${index}]: ${JSON.stringify(source)} cannot be a host path ([A-Za-z0-9_./@+-] only)`,
      );
    return { source, target };
  });
  // A few reads at a time: a directory of hundreds of files must not become hundreds of API requests at once.
  const out: { source: string; target: string; text: string | undefined }[] = [];
  for (let i = 0; i < targets.length; i += READS_AT_ONCE)
    out.push(
      ...(await Promise.all(
        targets.slice(i, i + READS_AT_ONCE).map(async (t) => ({ ...t, text: await input.read(t.source) })),
      )),
    );
  return out;
}

const READS_AT_ONCE = 8;

/** host name → its desired files (only hosts a file applies to get it). */
export async function desiredFiles(input: DesiredFilesInput): Promise<Map<string, DesiredFile[]>> {
  const out = new Map<string, DesiredFile[]>(input.hosts.map((h) => [h.name, []]));
  const dir = backupDir(input.stateDir, input.app, input.environment);
  for (const [index, f] of input.files.entries()) {
    const hosts = input.hosts.filter((h) => !f.hosts || f.hosts.includes(h.name));
    const expanded = await expand(input, f, index);
    for (const { source, target, text } of expanded) {
      if (text === undefined && !f.prune)
        throw new FileSourceMissing(
          `files[${index}]: ${source} is not in the manifest repository (set prune: true to remove ${target} from the hosts instead)`,
        );
      for (const host of hosts) {
        const content =
          text === undefined
            ? undefined
            : Buffer.from(
                f.template ? renderTemplate(text, { host, app: input.app, environment: input.environment }) : text,
              );
        out.get(host.name)!.push({
          index,
          source,
          target,
          mode: f.mode,
          ...(f.owner ? { owner: f.owner } : {}),
          ...(content ? { content, sha256: sha256(content) } : {}),
          ...(f.validate ? { validate: f.validate } : {}),
          ...(f.reload ? { reload: f.reload } : {}),
          restart: f.restart,
          secret: f.secret,
          backup: backupIn(dir, target),
        });
      }
    }
    if (f.prune && f.source.endsWith('/')) {
      const names = expanded
        .map((e) => `${e.target.slice(f.target.length + 1)}\n`)
        .sort()
        .join('');
      const target = recordPath(dir, f.target);
      const record: DirectoryRecord = {
        dir: f.target,
        source: f.source,
        backupDir: dir,
        ...(f.reload ? { reload: f.reload } : {}),
        restart: f.restart,
      };
      const content = Buffer.from(names);
      for (const host of hosts)
        out.get(host.name)!.push({
          index,
          source: f.source,
          target,
          mode: '0600',
          content,
          sha256: sha256(content),
          restart: false,
          secret: false,
          backup: backupIn(dir, target),
          record,
        });
    }
  }
  return out;
}

/**
 * `files` plus a removal for each name a directory's record on the host lists and git no longer has
 * (read with `run`), placed before the record. Names from the host are checked against the target grammar:
 * one that fails it is left alone, as is every file the record does not name.
 */
export async function withRemovedFiles(
  files: readonly DesiredFile[],
  run: (argv: string[]) => Promise<{ stdout: string }>,
): Promise<DesiredFile[]> {
  const out: DesiredFile[] = [];
  for (const f of files) {
    if (f.record) {
      const r = f.record;
      const keep = new Set(f.content!.toString('utf8').split('\n'));
      for (const name of (await run(readIfExists(f.target))).stdout.split('\n')) {
        const target = `${r.dir}/${name}`;
        if (!name || keep.has(name) || name.startsWith('/') || !TARGET_PATH.test(target)) continue;
        out.push({
          index: f.index,
          source: `${r.source}${name}`,
          target,
          mode: '0644',
          ...(r.reload ? { reload: r.reload } : {}),
          restart: r.restart,
          secret: false,
          backup: backupIn(r.backupDir, target),
        });
      }
    }
    out.push(f);
  }
  return out;
}

/** A file's state on a host against git: `in-sync`, `drifted` (other bytes, mode or owner), `missing`, or `extra` (pruned but still there). */
export type FileSync = 'in-sync' | 'drifted' | 'missing' | 'extra';

export function compareFile(
  want: DesiredFile,
  have: { sha256: string; mode: string; owner: string } | undefined,
): FileSync {
  if (!want.content) return have ? 'extra' : 'in-sync';
  if (!have) return 'missing';
  const modeOk = Number.parseInt(have.mode, 8) === Number.parseInt(want.mode, 8);
  const ownerOk =
    !want.owner || have.owner === (want.owner.includes(':') ? want.owner : `${want.owner}:${have.owner.split(':')[1]}`);
  return have.sha256 === want.sha256 && modeOk && ownerOk ? 'in-sync' : 'drifted';
}

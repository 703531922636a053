/**
 * What each host of an environment should hold (issue 13): every `files[]` entry read from the manifest
 * repository at the branch head, rendered per host when it is a template, hashed. A source gone from the
 * repository is `absent` (removed from the hosts) when the entry has `prune: true`, an error otherwise.
 */
import { FjordError } from '../errors.js';
import { backupPath, sha256 } from './file-commands.js';
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
async function expand(input: DesiredFilesInput, f: ManagedFile, index: number): Promise<{ source: string; target: string; text: string | undefined }[]> {
  if (!f.source.endsWith('/')) return [{ source: f.source, target: f.target, text: await input.read(f.source) }];
  if (!input.list) throw new FileSourceMissing(`files[${index}]: ${f.source} is a directory; directories need manifest.backend git`);
  const sources = await input.list(f.source);
  if (!sources.length) throw new FileSourceMissing(`files[${index}]: directory ${f.source} has no files in the manifest repository`);
  return await Promise.all(sources.map(async (source) => {
    const target = `${f.target}/${source.slice(f.source.length)}`;
    // A file name from git becomes part of a host path: the same grammar as fjord.yaml's targets.
    if (!TARGET_PATH.test(target)) throw new FileSourceMissing(`files[${index}]: ${JSON.stringify(source)} cannot be a host path ([A-Za-z0-9_./@+-] only)`);
    return { source, target, text: await input.read(source) };
  }));
}

/** host name → its desired files (only hosts a file applies to get it). */
export async function desiredFiles(input: DesiredFilesInput): Promise<Map<string, DesiredFile[]>> {
  const out = new Map<string, DesiredFile[]>(input.hosts.map((h) => [h.name, []]));
  for (const [index, f] of input.files.entries()) {
    for (const { source, target, text } of await expand(input, f, index)) {
      if (text === undefined && !f.prune) throw new FileSourceMissing(`files[${index}]: ${source} is not in the manifest repository (set prune: true to remove ${target} from the hosts instead)`);
      for (const host of input.hosts.filter((h) => !f.hosts || f.hosts.includes(h.name))) {
        const content = text === undefined ? undefined : Buffer.from(f.template ? renderTemplate(text, { host, app: input.app, environment: input.environment }) : text);
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
          backup: backupPath(input.stateDir, input.app, input.environment, target),
        });
      }
    }
  }
  return out;
}

/** A file's state on a host against git: `in-sync`, `drifted` (other bytes, mode or owner), `missing`, or `extra` (pruned but still there). */
export type FileSync = 'in-sync' | 'drifted' | 'missing' | 'extra';

export function compareFile(want: DesiredFile, have: { sha256: string; mode: string; owner: string } | undefined): FileSync {
  if (!want.content) return have ? 'extra' : 'in-sync';
  if (!have) return 'missing';
  const modeOk = Number.parseInt(have.mode, 8) === Number.parseInt(want.mode, 8);
  const ownerOk = !want.owner || have.owner === (want.owner.includes(':') ? want.owner : `${want.owner}:${have.owner.split(':')[1]}`);
  return have.sha256 === want.sha256 && modeOk && ownerOk ? 'in-sync' : 'drifted';
}

/**
 * What each host of an environment should hold (issue 13): every `files[]` entry read from the manifest
 * repository at the branch head, rendered per host when it is a template, hashed. A source gone from the
 * repository is `absent` (removed from the hosts) when the entry has `prune: true`, an error otherwise.
 */
import { FjordError } from '../errors.js';
import { backupPath, sha256 } from './file-commands.js';
import type { ManagedFile } from './file-schema.js';
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
}

/** host name → its desired files (only hosts a file applies to get it). */
export async function desiredFiles(input: DesiredFilesInput): Promise<Map<string, DesiredFile[]>> {
  const out = new Map<string, DesiredFile[]>(input.hosts.map((h) => [h.name, []]));
  for (const [index, f] of input.files.entries()) {
    const text = await input.read(f.source);
    if (text === undefined && !f.prune) throw new FileSourceMissing(`files[${index}]: ${f.source} is not in the manifest repository (set prune: true to remove ${f.target} from the hosts instead)`);
    for (const host of input.hosts) {
      if (f.hosts && !f.hosts.includes(host.name)) continue;
      const content = text === undefined ? undefined : Buffer.from(f.template ? renderTemplate(text, { host, app: input.app, environment: input.environment }) : text);
      out.get(host.name)!.push({
        index,
        source: f.source,
        target: f.target,
        mode: f.mode,
        ...(f.owner ? { owner: f.owner } : {}),
        ...(content ? { content, sha256: sha256(content) } : {}),
        ...(f.validate ? { validate: f.validate } : {}),
        ...(f.reload ? { reload: f.reload } : {}),
        restart: f.restart,
        secret: f.secret,
        backup: backupPath(input.stateDir, input.app, input.environment, f.target),
      });
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

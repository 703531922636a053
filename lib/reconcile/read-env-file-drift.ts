/**
 * An app's env file on one host against what git's encrypted file decrypts to (issue 13, drift): compared
 * by sha256, and it must be root-owned with mode 0600. Never a value and never a diff of the content: a
 * drifted file names only the variables that differ (`envFileChanges`, in memory). Read-only.
 */
import { hashFiles, parseHashes, sha256 } from '../files/file-commands.js';
import { envFileAccess, readEnvFile } from '../rollout/env-file-commands.js';
import type { Secret } from '../secret.js';
import { envFileChanges } from '../secrets/env-file-changes.js';
import type { KeyChanges } from '../secrets/key-changes.js';
import type { SshSession } from '../ssh/types.js';

/** The env file a host should hold: where, and the text git's secrets file decrypts to. */
export interface DesiredEnvFile {
  /** `secrets.file` in the manifest repository. */
  file: string;
  /** `<ssh.stateDir>/env/<app>.<env>.env` on the host. */
  path: string;
  envFile: Secret;
}

export interface EnvFileDrift {
  file: string;
  path: string;
  status: 'in-sync' | 'drifted' | 'missing';
  /** sha256 of the env file on the host (absent: missing): a new hand edit is a new drift. */
  hash?: string;
  /** A drifted file's variables, the host's against git's, by name only: what a heal changes. */
  keys?: KeyChanges;
  /** Owner and mode when they are not root's 0600. */
  access?: string;
}

export async function readEnvFileDrift(session: SshSession, want: DesiredEnvFile): Promise<EnvFileDrift> {
  const base = { file: want.file, path: want.path };
  const have = parseHashes((await session.run(hashFiles([want.path]), { step: 'inspect' })).stdout).get(want.path);
  if (!have) return { ...base, status: 'missing' };
  const access = envFileAccess(have);
  const out = { ...base, hash: have.sha256, ...(access ? { access } : {}) };
  if (have.sha256 === sha256(want.envFile.reveal())) return { ...out, status: access ? 'drifted' : 'in-sync' };
  // The host's text stays in memory (its values registered as Secrets); only key names come out.
  const keys = envFileChanges((await session.run(readEnvFile(want.path), { step: 'inspect' })).stdout, want.envFile);
  return { ...out, status: 'drifted', keys };
}

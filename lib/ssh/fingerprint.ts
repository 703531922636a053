/** Host key fingerprints as OpenSSH prints them (`ssh-keygen -lf`): `SHA256:` + unpadded base64. */
import { createHash } from 'node:crypto';

/** Fingerprint of a public key blob (the SSH wire encoding that ssh2 hands to `hostVerifier`). */
export function fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type named at the start of a public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return len > 0 && len < 64 && keyBlob.length >= 4 + len ? keyBlob.subarray(4, 4 + len).toString('latin1') : 'unknown';
}

/** Fingerprint of one `ssh-ed25519 AAAA… comment` line (an `.pub` file or authorized_keys entry). */
export function fingerprintOfPublicKey(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob) throw new Error('not an OpenSSH public key line');
  return fingerprint(Buffer.from(blob, 'base64'));
}

const PINNED = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** A well-formed pin, without the optional `=` padding; undefined when it is not a SHA256 pin. */
export function normalizePin(pin: string | undefined): string | undefined {
  if (!pin || !PINNED.test(pin.trim())) return undefined;
  return pin.trim().replace(/=+$/, '');
}

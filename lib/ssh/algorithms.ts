/**
 * Key exchange offer. curve25519-sha256 costs about half the client CPU of the alternatives measured here
 * (DESIGN.md, performance notes) and every current OpenSSH server accepts it; the rest is a fallback for
 * older or FIPS-restricted servers. sntrup761x25519 is not implemented by ssh2.
 */
import type { KexAlgorithm } from 'ssh2';

export const KEX: KexAlgorithm[] = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group-exchange-sha256',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
];

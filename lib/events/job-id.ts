/** Job ids: random and URL-safe (`[A-Za-z0-9_-]`, 16 characters: 96 bits), as deployJobSchema requires. */
import { randomBytes } from 'node:crypto';

export const newJobId = (): string => randomBytes(12).toString('base64url');

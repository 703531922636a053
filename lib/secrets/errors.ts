/** Named errors of the app-secrets path: each names the file and says what to fix, never a value. */
import { FjordError } from '../errors.js';

/** The secrets file could not be decrypted, verified or read as environment variables. */
export class SecretsInvalid extends FjordError {}

/** None of the worker's age identities is a recipient of the file (or none is configured). */
export class SecretsIdentityMismatch extends FjordError {}

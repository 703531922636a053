/**
 * The quoting error, in its own file: `quote.ts` throws it and `errors.ts` quotes argv for its messages,
 * so it cannot live in either without a cycle.
 */
import { FjordError } from '../errors.js';

/** An argument cannot be passed through a shell at all (a NUL byte), or an env name is not a name. */
export class UnsafeArgument extends FjordError {
  override status = 422;
}

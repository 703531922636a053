/**
 * Named errors. Transport and library failures are turned into these at the edge, so nothing above
 * reads another library's message text. `status` is the HTTP status the receiver answers with.
 */
export class FjordError extends Error {
  status = 500;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** fjord.yaml is invalid; `issues` are `path: message` lines. */
export class ConfigError extends FjordError {
  constructor(
    readonly issues: string[],
    readonly file?: string,
  ) {
    super(`${file ? file + ': ' : ''}invalid configuration\n  ${issues.join('\n  ')}`);
  }
}

export class Unauthorized extends FjordError {
  override status = 401;
}
export class PayloadTooLarge extends FjordError {
  override status = 413;
}
export class UnsupportedMediaType extends FjordError {
  override status = 415;
}
export class MalformedPayload extends FjordError {
  override status = 400;
}
/** An event fjord should act on carries a value that fails its grammar; `path` names the field. */
export class InvalidEvent extends FjordError {
  override status = 422;
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}
/** The queue cannot take the job right now: the sender should retry (GitLab does on 5xx). */
export class QueueUnavailable extends FjordError {
  override status = 503;
}

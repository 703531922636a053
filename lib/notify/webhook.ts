/**
 * `Notifier` for chat: when a job finishes, one JSON POST `{"text": "…"}` to a Slack-compatible incoming
 * webhook (Slack, Mattermost, Rocket.Chat, Discord's `/slack` endpoint). The URL is a secret (its path is
 * the token), so it stays wrapped in `Secret` and no log line or error text ever carries it: failures are
 * described by error class, code and HTTP status only, never by a message that might quote the URL.
 * The request is bounded by `timeoutMs` (5 s), and nothing here throws: chat never fails a deploy.
 */
import type { DeployJob } from '../job.js';
import type { Logger } from '../log.js';
import { Secret } from '../secret.js';
import type { Outcome } from '../worker/outcome.js';
import type { FeedbackLinks } from './links.js';
import type { Notifier } from './notifier.js';
import { renderChatText } from './render-chat.js';
import type { Timeline } from './timeline.js';

export interface WebhookNotifierOptions {
  url: Secret;
  logger: Logger;
  links: FeedbackLinks;
  timeoutMs?: number;
}

export class WebhookNotifier implements Notifier {
  readonly #url: Secret;
  readonly #logger: Logger;
  readonly #links: FeedbackLinks;
  readonly #timeoutMs: number;

  constructor({ url, logger, links, timeoutMs = 5_000 }: WebhookNotifierOptions) {
    this.#url = url;
    this.#logger = logger;
    this.#links = links;
    this.#timeoutMs = timeoutMs;
    // The URL as fetch normalises it (host lower-cased, path escaped) is masked in logs too.
    const normalised = URL.canParse(url.reveal()) ? new URL(url.reveal()).href : undefined;
    if (normalised && normalised !== url.reveal()) new Secret(normalised);
  }

  async jobStarted(): Promise<void> {}

  async jobFinished(job: DeployJob, outcome: Outcome, timeline?: Timeline): Promise<void> {
    const text = renderChatText(job, outcome, { links: this.#links, ...(timeline ? { timeline } : {}) });
    const problem = await this.#post(JSON.stringify({ text }));
    if (problem)
      this.#logger.warn('notification failed', {
        what: 'chat webhook',
        job: job.id,
        app: job.app,
        environment: job.environment,
        error: problem,
      });
  }

  /** Sends `body`; returns what went wrong, in words that cannot contain the URL, or undefined. */
  async #post(body: string): Promise<string | undefined> {
    try {
      const res = await fetch(this.#url.reveal(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        // A redirect would send the message somewhere the operator did not name.
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await res.body?.cancel().catch(() => {});
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      const name = err instanceof Error ? err.name : typeof err;
      if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${this.#timeoutMs} ms`;
      const code = (err as { cause?: { code?: unknown } }).cause?.code;
      return `${name}${typeof code === 'string' ? ` (${code})` : ''}`;
    }
  }
}

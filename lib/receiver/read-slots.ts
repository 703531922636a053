/**
 * A cap on request bodies read before the request is authenticated (issue 12, item 6). A plain-token
 * GitLab webhook is judged on its headers alone, but a signed one (GitLab `webhook-signature`, GitHub
 * `X-Hub-Signature-256`) can only be judged on its body: without a cap, anyone could make the receiver hold
 * `slots × maxBodyBytes` of memory with bodies it will refuse. Past the cap the answer is 503 at once
 * (senders retry), never a queue of waiting readers.
 */
import { FjordError } from '../errors.js';

/** Too many unauthenticated bodies are being read right now: try again shortly (503, Retry-After). */
export class ReceiverBusy extends FjordError {
  override status = 503;
}

export interface ReadSlots {
  /** Takes a slot, or throws ReceiverBusy; the returned function gives it back (calling it twice is harmless). */
  acquire(): () => void;
  readonly busy: number;
}

export function readSlots(max: number): ReadSlots {
  let busy = 0;
  return {
    acquire() {
      if (busy >= max)
        throw new ReceiverBusy(`${max} unauthenticated request bodies are already being read; retry later`);
      busy++;
      let held = true;
      return () => {
        if (held) {
          held = false;
          busy--;
        }
      };
    },
    get busy() {
      return busy;
    },
  };
}

/**
 * The one queue contract (DESIGN.md "Queue"): at-least-once delivery, FIFO per group with one message in
 * flight per group, a duplicate dedupId within the dedup window dropped, visibility timeout and
 * redelivery, and a dead-letter list after `maxAttempts` receives. Implemented by `local` (embedded,
 * on disk) and `sqs` (SQS FIFO).
 */
import type { DeployJob } from '../job.js';

export interface SendOptions {
  /** Messages of one group are delivered in order, one at a time: `<app>/<env>`. */
  group: string;
  /** A second send with the same dedupId within the window is dropped: `<app>/<env>/<sha>`. */
  dedupId: string;
}

export interface SendResult {
  /** Queue-assigned message id (of the first send when this one was a duplicate). */
  messageId: string;
  duplicate: boolean;
}

export interface Received {
  messageId: string;
  /** Opaque handle for ack/retry/extend of this one receive. */
  receipt: string;
  group: string;
  job: DeployJob;
  /** How many times this message has been received, this receive included. */
  attempts: number;
  /** A copy that a gate (a freeze) held before (`requeue` with `held`): only queues with `requeue` set it. */
  held?: boolean;
}

export interface DeadLetter {
  messageId: string;
  group: string;
  job: DeployJob;
  attempts: number;
  /** Why, when not for running out of attempts (e.g. its signature does not match: never run). */
  reason?: string;
}

export interface Queue {
  send(job: DeployJob, options: SendOptions): Promise<SendResult>;
  /** Up to `max` messages, each hidden from other receivers for `visibilitySec`. */
  receive(max: number, visibilitySec: number): Promise<Received[]>;
  /** Done: the message is deleted. */
  ack(message: Received): Promise<void>;
  /** Not done: make the message visible again after `delaySec` (default 0). */
  retry(message: Received, delaySec?: number): Promise<void>;
  /**
   * Not done, not failed: a gate (a freeze) holds it. Visible again after `delaySec`, and this receive does
   * not count against `maxAttempts`. Queues without it fall back to `retry`.
   */
  defer?(message: Received, delaySec: number): Promise<void>;
  /**
   * Sends a fresh copy of the message's job to the back of its group (`held`: marked as a gate still holding
   * it) and deletes this one: a queue that counts receives per message (SQS) starts the copy's count at zero,
   * so a long freeze never sends a job to the dead-letter queue. Queues without it `defer` or `retry`.
   */
  requeue?(message: Received, held: boolean): Promise<void>;
  /** Heartbeat: keep a long-running message hidden for `visibilitySec` more from now. */
  extend(message: Received, visibilitySec: number): Promise<void>;
  /**
   * Whether a deploy at least as new as this message's waits behind it in its group, so this one need not
   * wait for its image (lib/queue/coalesce.ts). Only queues that can see behind a group's head have it.
   */
  newerWaiting?(message: Received): boolean;
  close(): Promise<void>;
}

/** Thrown by ack/retry/extend when the receipt is no longer valid (visibility expired, redelivered). */
export class StaleReceipt extends Error {
  constructor(messageId: string) {
    super(`receipt for message ${messageId} is no longer valid (visibility expired?)`);
    this.name = 'StaleReceipt';
  }
}
